"""Pinyin spelling, the bottom layer: the syllable inventory, initials, fuzzy pairs
(`syllables`), and how typed keys and written pinyin are normalised (`spelling`). One copy of
each; every other package reads spelling from here.
"""
