"""Safe unpacking of uploaded archives: every unsafe member is refused with a message naming it and the rule."""

from __future__ import annotations

import io
import tarfile
import zipfile
from pathlib import Path

import pytest

from apps.core.archives import ArchiveLimits, extract_archive, unpack_archive
from apps.core.errors import InvalidInput

MB = 1024 * 1024


def _zip(path: Path, members: dict[str, bytes], *, compression: int = zipfile.ZIP_DEFLATED) -> Path:
    with zipfile.ZipFile(path, "w", compression=compression) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return path


def _tar(path: Path, members: list[tuple[tarfile.TarInfo, bytes | None]]) -> Path:
    with tarfile.open(path, "w:gz") as archive:
        for info, data in members:
            if data is not None:
                info.size = len(data)
            archive.addfile(info, io.BytesIO(data) if data is not None else None)
    return path


def _tar_info(name: str, kind: bytes = tarfile.REGTYPE, *, link: str = "") -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type = kind
    info.linkname = link
    return info


def _refused(archive: Path, destination: Path, limits: ArchiveLimits | None = None) -> str:
    with pytest.raises(InvalidInput) as error:
        extract_archive(archive, destination, limits)
    return error.value.message


def test_it_extracts_a_zip_with_folders(tmp_path: Path) -> None:
    archive = _zip(tmp_path / "ok.zip", {"task/a.txt": b"alpha", "task/sub/b.bin": b"\x00\x01"})

    names = extract_archive(archive, tmp_path / "out")

    assert sorted(names) == ["task/a.txt", "task/sub/b.bin"]
    assert (tmp_path / "out" / "task" / "a.txt").read_bytes() == b"alpha"
    assert (tmp_path / "out" / "task" / "sub" / "b.bin").read_bytes() == b"\x00\x01"


def test_it_extracts_a_gzipped_tar(tmp_path: Path) -> None:
    archive = _tar(
        tmp_path / "ok.tar.gz",
        [(_tar_info("code", tarfile.DIRTYPE), None), (_tar_info("code/run.py"), b"print('hi')\n")],
    )

    names = extract_archive(archive, tmp_path / "out")

    assert names == ["code/run.py"]
    assert (tmp_path / "out" / "code" / "run.py").read_bytes() == b"print('hi')\n"


@pytest.mark.parametrize("name", ["../x", "a/../../x", "..\\x"])
def test_it_refuses_a_zip_member_pointing_outside(tmp_path: Path, name: str) -> None:
    message = _refused(_zip(tmp_path / "bad.zip", {name: b"x"}), tmp_path / "out")

    assert message == f"archive member {name!r} points outside the archive ('..')"
    assert not (tmp_path / "x").exists()


@pytest.mark.parametrize("name", ["/etc/passwd", "C:/x.txt"])
def test_it_refuses_a_zip_member_with_an_absolute_path(tmp_path: Path, name: str) -> None:
    message = _refused(_zip(tmp_path / "bad.zip", {name: b"x"}), tmp_path / "out")

    assert message == f"archive member {name!r} has an absolute path"


def test_it_refuses_a_tar_member_pointing_outside(tmp_path: Path) -> None:
    archive = _tar(tmp_path / "bad.tar.gz", [(_tar_info("../evil.sh"), b"x")])

    assert _refused(archive, tmp_path / "out") == "archive member '../evil.sh' points outside the archive ('..')"


def test_it_refuses_a_tar_member_with_an_absolute_path(tmp_path: Path) -> None:
    archive = _tar(tmp_path / "bad.tar.gz", [(_tar_info("/tmp/evil.sh"), b"x")])

    assert _refused(archive, tmp_path / "out") == "archive member '/tmp/evil.sh' has an absolute path"


def test_it_refuses_a_zip_symlink(tmp_path: Path) -> None:
    info = zipfile.ZipInfo("link")
    info.external_attr = (0o120777 << 16) | 0
    with zipfile.ZipFile(tmp_path / "link.zip", "w") as archive:
        archive.writestr("ok.txt", b"fine")
        archive.writestr(info, "/etc/passwd")

    message = _refused(tmp_path / "link.zip", tmp_path / "out")

    assert message == "archive member 'link' is a symbolic link; only regular files are allowed"
    assert not (tmp_path / "out").exists()


def test_it_refuses_a_zip_special_file(tmp_path: Path) -> None:
    info = zipfile.ZipInfo("fifo")
    info.external_attr = 0o010644 << 16
    with zipfile.ZipFile(tmp_path / "fifo.zip", "w") as archive:
        archive.writestr(info, b"")

    message = _refused(tmp_path / "fifo.zip", tmp_path / "out")

    assert message == "archive member 'fifo' is a special file; only regular files are allowed"


def test_it_refuses_a_tar_symlink(tmp_path: Path) -> None:
    archive = _tar(tmp_path / "link.tar.gz", [(_tar_info("data", tarfile.SYMTYPE, link="/etc/passwd"), None)])

    assert _refused(archive, tmp_path / "out") == "archive member 'data' is a link; only regular files are allowed"


def test_it_refuses_a_tar_hardlink(tmp_path: Path) -> None:
    archive = _tar(
        tmp_path / "hard.tar.gz",
        [(_tar_info("a.txt"), b"a"), (_tar_info("b.txt", tarfile.LNKTYPE, link="a.txt"), None)],
    )

    assert _refused(archive, tmp_path / "out") == "archive member 'b.txt' is a link; only regular files are allowed"


@pytest.mark.parametrize("kind", [tarfile.CHRTYPE, tarfile.BLKTYPE, tarfile.FIFOTYPE])
def test_it_refuses_a_tar_device_or_special_file(tmp_path: Path, kind: bytes) -> None:
    archive = _tar(tmp_path / "dev.tar.gz", [(_tar_info("dev/null", kind), None)])

    assert _refused(archive, tmp_path / "out") == "archive member 'dev/null' is a device or special file"


def test_it_refuses_too_many_files(tmp_path: Path) -> None:
    archive = _zip(tmp_path / "many.zip", {f"f{i}.txt": b"x" for i in range(4)})

    message = _refused(archive, tmp_path / "out", ArchiveLimits(max_files=3))

    assert message == "the archive holds 4 files; at most 3 are allowed"


def test_it_refuses_too_many_bytes(tmp_path: Path) -> None:
    archive = _zip(tmp_path / "big.zip", {"a.bin": b"a" * 600, "b.bin": b"b" * 600})

    message = _refused(archive, tmp_path / "out", ArchiveLimits(max_bytes=1000))

    assert message == "the archive unpacks to 1200 bytes; at most 1000 are allowed"


def test_it_refuses_a_member_that_expands_like_a_bomb(tmp_path: Path) -> None:
    archive = _zip(tmp_path / "bomb.zip", {"readme.txt": b"hello", "zeros.bin": bytes(4 * MB)})

    message = _refused(archive, tmp_path / "out", ArchiveLimits(max_ratio=20))

    assert message.startswith("archive member 'zeros.bin' expands ")
    assert message.endswith(" times; this looks like a compression bomb")
    assert not (tmp_path / "out").exists()


def test_it_refuses_an_archive_that_expands_like_a_bomb_as_a_whole(tmp_path: Path) -> None:
    # Each member stays under the 1 MB below which single members are not checked; together they are not.
    archive = _tar(tmp_path / "bomb.tar.gz", [(_tar_info(f"z{i}.bin"), bytes(MB - 1)) for i in range(3)])

    message = _refused(archive, tmp_path / "out", ArchiveLimits(max_ratio=20))

    assert message == "the archive expands more than 20 times; this looks like a compression bomb"


def test_it_accepts_a_stored_member_above_a_megabyte(tmp_path: Path) -> None:
    archive = _zip(tmp_path / "stored.zip", {"data.bin": bytes(2 * MB)}, compression=zipfile.ZIP_STORED)

    assert extract_archive(archive, tmp_path / "out", ArchiveLimits(max_ratio=20)) == ["data.bin"]


def test_it_refuses_a_file_that_is_not_an_archive(tmp_path: Path) -> None:
    path = tmp_path / "selection.json"
    path.write_text('{"targets": {}}')

    assert _refused(path, tmp_path / "out") == "the upload is not a zip or tar archive"


def test_it_refuses_a_damaged_zip_naming_the_fault(tmp_path: Path) -> None:
    path = _zip(tmp_path / "damaged.zip", {"data.txt": b"0123456789" * 100}, compression=zipfile.ZIP_STORED)
    raw = bytearray(path.read_bytes())
    offset = raw.index(b"0123456789")
    raw[offset : offset + 10] = b"9876543210"  # same size, wrong CRC
    path.write_bytes(bytes(raw))

    message = _refused(path, tmp_path / "out")

    assert message.startswith("the archive is damaged or unreadable: ")
    assert "data.txt" in message
    assert not (tmp_path / "out").exists()


def test_it_refuses_a_truncated_tar(tmp_path: Path) -> None:
    path = _tar(tmp_path / "cut.tar.gz", [(_tar_info("a.bin"), bytes(range(256)) * 200)])
    path.write_bytes(path.read_bytes()[:-40])

    assert _refused(path, tmp_path / "out").startswith("the archive is damaged or unreadable: ")


def test_it_writes_nothing_when_one_member_is_refused(tmp_path: Path) -> None:
    archive = _zip(tmp_path / "mixed.zip", {"good.txt": b"fine", "../bad.txt": b"x"})

    _refused(archive, tmp_path / "out")

    assert not (tmp_path / "out").exists()
    assert not (tmp_path / "bad.txt").exists()


@pytest.mark.parametrize(
    "members",
    [
        {"rankings/a.txt": b"1", "rankings/b.txt": b"2"},
        {"rankings/": b"", "rankings/a.txt": b"1", "rankings/b.txt": b"2"},  # as `zip -r` writes it
        {"rankings/a.txt": b"1", "rankings/b.txt": b"2", "__MACOSX/rankings/._a.txt": b"", ".DS_Store": b""},
    ],
    ids=["wrapped", "with-directory-entry", "with-archiver-noise"],
)
def test_one_folder_wrapping_everything_is_the_root(tmp_path: Path, members: dict[str, bytes]) -> None:
    unpacked = unpack_archive(_zip(tmp_path / "a.zip", members), tmp_path / "out")

    assert unpacked.root == tmp_path / "out" / "rankings"
    assert sorted(unpacked.names) == ["a.txt", "b.txt"]
    assert (unpacked.root / "a.txt").read_bytes() == b"1"


@pytest.mark.parametrize(
    "members",
    [
        {"a.txt": b"1", "sub/b.txt": b"2"},
        {"one/a.txt": b"1", "two/b.txt": b"2"},
        {"rankings": b"a file, not a folder"},
    ],
    ids=["a-file-at-the-root", "two-folders", "a-single-file"],
)
def test_anything_else_at_the_root_keeps_the_archives_own_root(tmp_path: Path, members: dict[str, bytes]) -> None:
    unpacked = unpack_archive(_zip(tmp_path / "a.zip", members), tmp_path / "out")

    assert unpacked.root == tmp_path / "out"
    assert sorted(unpacked.names) == sorted(members)


def test_a_wrapped_archive_is_refused_for_an_unsafe_member_like_any_other(tmp_path: Path) -> None:
    archive = _zip(tmp_path / "a.zip", {"rankings/a.txt": b"1", "rankings/../../evil.txt": b"x"})

    assert "points outside the archive" in _refused_unpack(archive, tmp_path / "out")


def _refused_unpack(archive: Path, destination: Path) -> str:
    with pytest.raises(InvalidInput) as caught:
        unpack_archive(archive, destination)
    assert not destination.exists()
    return caught.value.message
