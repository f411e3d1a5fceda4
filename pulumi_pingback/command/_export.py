"""``pingback export``: a Pulumi project (Python) that adopts every channel of the business,
or its program alone on stdout or into ``-o FILE``.

Here: what is checked before anything is listed or written (DIR or FILE, what exists,
``--exclude``; DIR is made before the listing, so a folder that cannot be made costs no
API call, and removed again if the export stops before writing into it), the identities
two channels share (refused: no program can adopt both), and the project's other files
(``Pulumi.yaml``, ``requirements.txt``, the note :data:`~._codegen.NOTE` with the secret
stack config to set); the program itself is rendered by :mod:`._codegen`. The parser and
the exit codes are :mod:`._main`'s, which runs :func:`export` for the command; the
listing, :mod:`._channels`'s.

It writes no credential anywhere: the program reads each one with
``pulumi.Config().require_secret(...)``, and the ``pulumi config set --secret`` commands
to run are printed on stderr with placeholders (and, for a project, written to its note).
Readable values (a ``phone_number_id``, a ``widget_id``) are written as they are. Every
channel is protected (``--no-protect``: not), and no existing file is overwritten without
``--force``.
"""

from __future__ import annotations

import argparse
import json
import re
import shlex
from collections.abc import Sequence
from pathlib import Path
from typing import TextIO

from .. import _defaults
from .._untrusted import inert
from .._version import __version__
from ..channels._kinds import describe_identity, kind_of_identity
from ._channels import Business, list_business, unreadable_lines
from ._codegen import NOTE, Secret, UnsafeProgram, render_program
from ._terminal import LogHandler, Refused, Usage

__all__ = ["commands", "export", "next_steps", "project_name"]


def project_name(folder: Path) -> str:
    """A Pulumi project name from a folder's name: letters, digits, ``-``, ``_``, ``.``;
    never ``pingback`` or ``pulumi``, whose config namespaces are taken."""
    name = re.sub(r"[^a-z0-9_.-]+", "-", folder.resolve().name.lower()).strip("-._")[:100]
    if name in ("", "pingback", "pulumi"):
        name = f"{name or 'pingback'}-channels"
    return name


def _conflicts(business: Business) -> list[str]:
    """One error per identity held by two channels or more (after --exclude)."""
    holders: dict[str, list[str]] = {}
    for channel in business.channels:
        if channel.identity:
            holders.setdefault(channel.identity, []).append(channel.id)
    problems = []
    for identity, ids in sorted(holders.items()):
        if len(ids) < 2:
            continue
        kind = kind_of_identity(identity)
        why = kind.one_channel_per_identity if kind else "one identity, one channel"
        problems.append(
            f"channels {_and(ids)} are all bound to the {describe_identity(identity)} "
            f"({inert(identity)}); {why}, and one program cannot adopt {len(ids)} channels on one "
            "identity (its first change would be refused).\nTo fix: delete all but one of them "
            "in the PingBack dashboard, or export and adopt one only: "
            + shlex.join(arg for cid in ids[1:] for arg in ("--exclude", cid))
            + " (an excluded channel stays in PingBack, unmanaged)."
        )
    return problems


def _and(items: Sequence[str]) -> str:
    return items[0] if len(items) == 1 else f"{', '.join(items[:-1])} and {items[-1]}"


def _write(path: Path, text: str, force: bool) -> None:
    try:
        with open(path, "w" if force else "x") as file:
            file.write(text)
    except FileExistsError:
        raise Usage(f"{path} exists; pass --force to overwrite it") from None
    except OSError as exc:
        raise Usage(f"cannot write {path}: {exc.strerror}") from None


def pinned_requirement() -> str:
    """The requirement that installs the pulumi-pingback running now, as pip recorded
    where it came from (PEP 610 ``direct_url.json``): a git commit, a wheel or sdist, a
    local folder; else, installed from an index, its version."""
    from importlib import metadata

    try:
        dist = metadata.distribution("pulumi-pingback")
    except metadata.PackageNotFoundError:
        return f"pulumi-pingback=={__version__}"
    try:
        recorded = json.loads(dist.read_text("direct_url.json") or "null")
    except ValueError:
        recorded = None
    url = recorded.get("url") if isinstance(recorded, dict) else None
    if not isinstance(url, str) or not re.fullmatch(r"[!#-~]+", url):
        return f"pulumi-pingback=={dist.version}"  # no (usable) record: from an index
    vcs = recorded.get("vcs_info")
    if isinstance(vcs, dict) and isinstance(vcs.get("vcs"), str) and vcs.get("commit_id"):
        url = f"{vcs['vcs']}+{url}@{vcs['commit_id']}"
    subdirectory = recorded.get("subdirectory")
    if isinstance(subdirectory, str) and re.fullmatch(r"[\w./-]+", subdirectory):
        url += f"#subdirectory={subdirectory}"
    return f"pulumi-pingback @ {url}"


def _requirements() -> str:
    """The pulumi-pingback that wrote the project, pinned (:func:`pinned_requirement`)."""
    return (
        f"# pulumi-pingback {__version__}, as the `pingback export` that wrote this project\n"
        "# was installed (pip's record of where it came from; a release from an index by\n"
        "# its version). `pulumi install` installs it into ./venv.\n"
        f"{pinned_requirement()}\n"
    )


def commands(business: Business, secrets: Sequence[Secret]) -> list[list[str]]:
    """The stack config to set before the first ``pulumi up``, each command an argv
    (printed with :func:`shlex.join`: every argument quoted for the shell)."""
    argvs = [
        ["pulumi", "config", "set", "--secret", "pingback:token", "<the business owner API token>"]
    ]
    if business.api_url.rstrip("/") != _defaults.API_URL:
        argvs.append(["pulumi", "config", "set", "pingback:apiUrl", business.api_url])
    return argvs + [s.argv() for s in secrets]


def next_steps(folder: Path | None, stack: str, config: Sequence[Sequence[str]]) -> list[list[str]]:
    """Every command the export tells its user to run, in order, as argvs."""
    steps = [["cd", str(folder)]] if folder is not None else []
    if folder is not None:
        steps.append(["pulumi", "install"])  # ./venv, and requirements.txt into it
        steps.append(["pulumi", "stack", "init", stack])
    return [*steps, *(list(c) for c in config), *([["pulumi", "up"]] if folder else [])]


def _note(name: str, business: Business, steps: Sequence[Sequence[str]], protect: bool) -> str:
    ids = business.channels
    owner = next((c.business_id for c in ids if c.business_id), "?")
    body = "\n".join(shlex.join(argv) for argv in steps if argv[0] != "cd")
    return (
        f"# Stack config for {name}\n\n"
        f"`pingback export` wrote this project from {business.api_url}: the {len(ids)} "
        f"channel{'s' if len(ids) != 1 else ''} of business {owner}, each declared with "
        "`adopt_id`. The program reads every credential from secret stack config; no "
        "secret is in these files.\n\n"
        "Set each to the value PingBack holds now (the dashboard shows them; or pipe it in: "
        "`pulumi config set --secret KEY` reads the value from stdin, out of shell "
        "history). The first `pulumi up` then adopts every channel without writing "
        "anything to PingBack. A key left unset stops it before anything is sent; a value "
        "that differs from PingBack's is refused, naming the key, and nothing is changed "
        "(to replace the live value on purpose, add `adopt_overwrite=True` to that "
        "channel).\n\n"
        f"In this folder:\n\n```bash\n{body}\n```\n\n"
        "## Destroy deletes\n\n"
        "`pulumi destroy`, or a channel removed from the program, deletes the channel in "
        "PingBack, and PingBack's delete cannot be undone. "
        + (
            "Every channel here is protected (`protect=True`): `pulumi destroy` refuses "
            "while it is. "
            if protect
            else ""
        )
        + "To let go of a channel and keep it in PingBack, set "
        "`retain_on_delete=True` in its `pulumi.ResourceOptions`"
        + (" (and drop `protect=True`)" if protect else "")
        + ", `pulumi up`, then remove it from the program and `pulumi up` again; or take it "
        "out of the stack alone with `pulumi state delete <its URN>`"
        + (" after `pulumi state unprotect <its URN>`" if protect else "")
        + ".\n"
    )


_FILES = ("Pulumi.yaml", "__main__.py", "requirements.txt", NOTE)
"""What ``pingback export DIR`` writes into DIR."""


def _why(exc: OSError, path: Path) -> str:
    """The system's reason, and the path it is about when not ``path`` (a parent)."""
    where = exc.filename if exc.filename is not None and Path(exc.filename) != path else None
    reason = exc.strerror or type(exc).__name__
    return f"{where}: {reason}" if where is not None else reason


def _make_folder(folder: Path, force: bool) -> list[Path]:
    """Check DIR and make it (and its missing parents) before anything is listed, so a
    folder that cannot be made costs no API call: the folders made, deepest first (for
    :func:`_unmake` if the export stops before writing into them)."""
    try:
        if folder.exists() and not folder.is_dir():
            raise Usage(f"{folder} is not a folder")
        taken = [str(folder / n) for n in _FILES if (folder / n).exists()]
        missing = []
        path = folder
        while not path.exists():  # the root, or ".", exists
            missing.append(path)
            path = path.parent
    except OSError as exc:
        raise Usage(f"cannot use the folder {folder}: {_why(exc, folder)}") from None
    if taken and not force:
        them = "it" if len(taken) == 1 else "them"
        raise Usage(
            f"{_and(taken)} exist{'s' if len(taken) == 1 else ''}; pass --force to overwrite {them}"
        )
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        _unmake(missing)
        raise Usage(f"cannot make the folder {folder}: {_why(exc, folder)}") from None
    return missing


def _unmake(made: Sequence[Path]) -> None:
    """Remove the folders :func:`_make_folder` made, deepest first, as long as they are
    empty (what was written stays)."""
    for path in made:
        try:
            path.rmdir()
        except OSError:
            return


def export(args: argparse.Namespace, out: TextIO, err: TextIO, log: LogHandler) -> int:
    if args.dir and args.output:
        raise Usage("give DIR (a project) or -o FILE (the program alone), not both")
    folder = Path(args.dir) if args.dir else None
    if args.output and folder is None:
        target = Path(args.output)
        try:
            if not target.parent.is_dir():
                raise Usage(f"cannot write {target}: the folder {target.parent} does not exist")
            if target.exists() and not args.force:
                raise Usage(f"{target} exists; pass --force to overwrite it")
        except OSError as exc:
            raise Usage(f"cannot write {target}: {_why(exc, target)}") from None
    made = _make_folder(folder, args.force) if folder is not None else []
    try:
        return _export(args, folder, out, err, log)
    except BaseException:
        _unmake(made)  # nothing was written into them: the export leaves no empty folder
        raise


def _export(
    args: argparse.Namespace, folder: Path | None, out: TextIO, err: TextIO, log: LogHandler
) -> int:
    """The export once DIR is made (or FILE checked): list, check, render, write."""
    business = list_business(args.api_url, err, log)
    known = {c.id for c in business.channels} | set(business.unreadable)
    unknown = [cid for cid in args.exclude if cid not in known]
    if unknown:
        raise Usage(f"--exclude {unknown[0]}: the business has no channel with that id")
    business.channels = [c for c in business.channels if c.id not in args.exclude]
    problems = _conflicts(business)
    if problems:
        raise Refused("\n".join(problems) + "\nNothing was written.")
    try:
        program, secrets = render_program(
            business.channels, protect=args.protect, project=folder is not None
        )
    except UnsafeProgram as exc:  # a bug of ours: say so, write nothing
        raise Refused(
            f"the program for this business fails its own check ({exc}); nothing was written. "
            "Please report it, with `pingback channels --json`."
        ) from None
    steps = next_steps(folder, args.stack, commands(business, secrets))
    skipped = unreadable_lines(
        business, "not exported (--exclude ID to leave it out)", args.exclude
    )
    n = len(business.channels)
    counted = f"{n} channel{'s' if n != 1 else ''}"
    if folder is not None:
        name = project_name(folder)
        owner = next((c.business_id for c in business.channels if c.business_id), "?")
        files = {
            "Pulumi.yaml": (
                f"name: {name}\n"
                f"description: {json.dumps(f'The PingBack channels of business {owner}, adopted by pingback export.')}\n"
                "runtime:\n  name: python\n  options:\n    toolchain: pip\n    virtualenv: venv\n"
            ),
            "__main__.py": program,
            "requirements.txt": _requirements(),
            NOTE: _note(name, business, steps, args.protect),
        }
        for file_name, text in files.items():
            _write(folder / file_name, text, args.force)
        print(f"pingback: exported {counted} into {folder}/ ({', '.join(_FILES)}). Next:", file=err)
        for argv in steps:
            print(shlex.join(argv), file=err)
    else:
        if args.output:
            _write(Path(args.output), program, args.force)
        else:
            out.write(program)
        where = f"into {args.output}" if args.output else "above"
        print(f"# pingback: {counted} exported {where}. Before `pulumi up`, set:", file=err)
        for argv in steps:
            print(shlex.join(argv), file=err)
    for line in skipped:
        print(line, file=err)
    return 0 if not skipped else 1
