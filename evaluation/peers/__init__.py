"""Peer IMEs (librime, libime, libpinyin, sunpinyin) behind one interface; see peers.py."""

from evaluation.peers.peers import (
    PEERS,
    PeerError,
    PeerProcess,
    PeerTimeout,
    PeerUnavailable,
    available_peers,
)

__all__ = [
    "PEERS",
    "PeerError",
    "PeerProcess",
    "PeerTimeout",
    "PeerUnavailable",
    "available_peers",
]
