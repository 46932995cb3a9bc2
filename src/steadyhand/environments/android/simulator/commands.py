"""The commands of the simulated device's shell, with the output formats of Android's own.

File and text tools (``echo cat ls rm mkdir touch grep sleep true false id sh``),
device tools (``getprop settings content input screencap uiautomator am monkey pm wm
dumpsys svc cmd``). Each takes (shell, arguments, stdin) and returns a
:class:`~.shell.Result`; the table :data:`COMMANDS` is what :class:`~.shell.Shell` runs.
Content providers are queried through SQLite, as real providers are, so ``--where``
and ``--sort`` take SQL.
"""

from __future__ import annotations

import io
import re
import sqlite3
import struct
import time
from collections.abc import Callable

from PIL import Image

from steadyhand.environments.android.simulator.phone import KEYCODES, LAUNCHER
from steadyhand.environments.android.simulator.shell import Result, Shell
from steadyhand.environments.android.simulator.state import Contact, normalize_path

Handler = Callable[[Shell, list[str], bytes], Result]
COMMANDS: dict[str, Handler] = {}

#: Packages installed besides the simulated apps (nothing can be started from them).
SYSTEM_PACKAGES = ("android", "com.android.systemui", "com.android.shell", "com.android.providers.settings",
                   "com.android.providers.contacts", "com.android.inputmethod.latin")
CONTACT_URIS = ("content://com.android.contacts/data/phones", "content://com.android.contacts/contacts",
                "content://contacts/phones", "content://contacts/people")


def command(*names: str) -> Callable[[Handler], Handler]:
    def add(fn: Handler) -> Handler:
        for name in names:
            COMMANDS[name] = fn
        return fn

    return add


def ok(text: str = "") -> Result:
    return Result(stdout=text.encode())


def fail(text: str, status: int = 1) -> Result:
    return Result(stderr=(text if text.endswith("\n") else text + "\n").encode(), status=status)


def _flags(args: list[str]) -> tuple[set[str], list[str]]:
    """Split ``-rf``-style flags from operands."""
    flags: set[str] = set()
    rest: list[str] = []
    for arg in args:
        if arg.startswith("-") and len(arg) > 1 and not rest:
            flags.update(arg[1:])
        else:
            rest.append(arg)
    return flags, rest


# --- files and text ---------------------------------------------------------------------------


@command("echo")
def _echo(sh: Shell, args: list[str], stdin: bytes) -> Result:
    newline = True
    if args and args[0] == "-n":
        newline, args = False, args[1:]
    return ok(" ".join(args) + ("\n" if newline else ""))


@command("true")
def _true(sh: Shell, args: list[str], stdin: bytes) -> Result:
    return Result()


@command("false")
def _false(sh: Shell, args: list[str], stdin: bytes) -> Result:
    return Result(status=1)


@command("sleep")
def _sleep(sh: Shell, args: list[str], stdin: bytes) -> Result:
    try:
        time.sleep(min(float(args[0]), 30.0) if args else 0.0)
    except ValueError:
        return fail(f"sleep: invalid number '{args[0]}'")
    return Result()


@command("id")
def _id(sh: Shell, args: list[str], stdin: bytes) -> Result:
    return ok("uid=2000(shell) gid=2000(shell) groups=2000(shell) context=u:r:shell:s0\n")


@command("whoami")
def _whoami(sh: Shell, args: list[str], stdin: bytes) -> Result:
    return ok("shell\n")


@command("sh")
def _sh(sh: Shell, args: list[str], stdin: bytes) -> Result:
    if len(args) >= 2 and args[0] == "-c":
        return sh.run(args[1])
    return fail("sh: only 'sh -c COMMAND' is supported by the simulated device")


@command("cat")
def _cat(sh: Shell, args: list[str], stdin: bytes) -> Result:
    if not args:
        return Result(stdout=stdin)
    out, err, status = bytearray(), bytearray(), 0
    for path in args:
        try:
            out += sh.state.read_file(path)
        except FileNotFoundError:
            err += f"cat: {path}: No such file or directory\n".encode()
            status = 1
        except IsADirectoryError:
            err += f"cat: {path}: Is a directory\n".encode()
            status = 1
    return Result(bytes(out), bytes(err), status)


@command("ls")
def _ls(sh: Shell, args: list[str], stdin: bytes) -> Result:
    _, paths = _flags(args)
    out, err, status = [], [], 0
    for path in paths or ["/"]:
        if sh.state.is_file(path):
            out.append(path)
            continue
        try:
            out.extend(name for name, _, _ in sh.state.list_dir(path))
        except FileNotFoundError:
            err.append(f"ls: {path}: No such file or directory")
            status = 1
    return Result("".join(f"{line}\n" for line in out).encode(), "".join(f"{e}\n" for e in err).encode(), status)


@command("rm")
def _rm(sh: Shell, args: list[str], stdin: bytes) -> Result:
    flags, paths = _flags(args)
    err, status = [], 0
    for path in paths:
        try:
            sh.state.remove(path, recursive="r" in flags or "R" in flags)
        except FileNotFoundError:
            if "f" not in flags:
                err.append(f"rm: {path}: No such file or directory")
                status = 1
        except IsADirectoryError:
            err.append(f"rm: {path}: is a directory")
            status = 1
    return Result(b"", "".join(f"{e}\n" for e in err).encode(), status)


@command("mkdir")
def _mkdir(sh: Shell, args: list[str], stdin: bytes) -> Result:
    flags, paths = _flags(args)
    for path in paths:
        if sh.state.is_dir(path):
            if "p" in flags:
                continue
            return fail(f"mkdir: '{path}': File exists")
        try:
            sh.state.make_dirs(path, parents="p" in flags)
        except (FileNotFoundError, FileExistsError) as exc:
            return fail(f"mkdir: '{path}': {type(exc).__name__}")
    return Result()


@command("touch")
def _touch(sh: Shell, args: list[str], stdin: bytes) -> Result:
    for path in args:
        if not sh.state.is_file(path):
            try:
                sh.state.write_file(path, b"")
            except (FileNotFoundError, IsADirectoryError):
                return fail(f"touch: '{path}': No such file or directory")
    return Result()


@command("grep")
def _grep(sh: Shell, args: list[str], stdin: bytes) -> Result:
    flags, rest = _flags(args)
    if not rest:
        return fail("usage: grep [-civqF] PATTERN [FILE...]", 2)
    pattern, files = rest[0], rest[1:]
    regex = re.compile(re.escape(pattern) if "F" in flags else pattern, re.IGNORECASE if "i" in flags else 0)
    text = b"".join(sh.state.read_file(f) for f in files if sh.state.is_file(f)) if files else stdin
    lines = [ln for ln in text.decode("utf-8", "replace").splitlines() if bool(regex.search(ln)) != ("v" in flags)]
    status = 0 if lines else 1
    if "q" in flags:
        return Result(status=status)
    if "c" in flags:
        return Result(f"{len(lines)}\n".encode(), status=status)
    return Result("".join(f"{ln}\n" for ln in lines).encode(), status=status)


# --- properties and settings ---------------------------------------------------------------------


@command("getprop")
def _getprop(sh: Shell, args: list[str], stdin: bytes) -> Result:
    if args:
        return ok(sh.state.props.get(args[0], "") + "\n")
    return ok("".join(f"[{k}]: [{v}]\n" for k, v in sorted(sh.state.props.items())))


@command("settings")
def _settings(sh: Shell, args: list[str], stdin: bytes) -> Result:
    args = list(args)
    while len(args) >= 2 and args[0] == "--user":
        args = args[2:]
    usage = "usage: settings [--user N] get|put|delete|list NAMESPACE [KEY [VALUE]]"
    if len(args) < 2:
        return fail(usage, 255)
    verb, namespace = args[0], args[1]
    if namespace not in ("system", "secure", "global"):
        return fail(f"Invalid namespace '{namespace}'\n{usage}", 255)
    state = sh.state
    if verb == "get" and len(args) == 3:
        value = state.get_setting(namespace, args[2])
        return ok(("null" if value is None else value) + "\n")
    if verb == "put" and len(args) >= 4:
        state.put_setting(namespace, args[2], args[3])
        return Result()
    if verb == "delete" and len(args) == 3:
        with state.lock:
            removed = state.settings.get(namespace, {}).pop(args[2], None)
        return ok(f"Deleted {0 if removed is None else 1} rows\n")
    if verb == "list":
        with state.lock:
            items = sorted(state.settings.get(namespace, {}).items())
        return ok("".join(f"{k}={v}\n" for k, v in items))
    return fail(usage, 255)


# --- content providers (through SQLite, like the real ones) --------------------------------------


def _provider_rows(sh: Shell, uri: str) -> tuple[list[str], list[dict[str, object]]] | None:
    state = sh.state
    if uri.startswith("content://settings/"):
        namespace = uri.removeprefix("content://settings/").strip("/")
        if namespace not in ("system", "secure", "global"):
            return None
        with state.lock:
            items = sorted(state.settings.get(namespace, {}).items())
        return ["_id", "name", "value"], [{"_id": i + 1, "name": k, "value": v} for i, (k, v) in enumerate(items)]
    if uri.rstrip("/") in CONTACT_URIS:
        with state.lock:
            rows = [{"_id": c.id, "display_name": c.display_name, "number": c.number, "data1": c.number}
                    for c in state.contacts]
        return ["_id", "display_name", "number", "data1"], rows
    return None


def _select(columns: list[str], rows: list[dict[str, object]], what: str, where: str | None,
            sort: str | None) -> list[dict[str, object]]:
    """Run a SELECT over ``rows`` in an in-memory SQLite table (raises sqlite3.Error on bad SQL)."""
    db = sqlite3.connect(":memory:")
    try:
        db.execute(f"CREATE TABLE t ({', '.join(columns)})")
        db.executemany(f"INSERT INTO t VALUES ({', '.join('?' for _ in columns)})",
                       [tuple(r.get(c) for c in columns) for r in rows])
        sql = f"SELECT {what} FROM t" + (f" WHERE {where}" if where else "") + (f" ORDER BY {sort}" if sort else "")
        cursor = db.execute(sql)
        names = [d[0] for d in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
    finally:
        db.close()


def _binding(spec: str) -> tuple[str, object]:
    name, kind, value = [*spec.split(":", 2), "", ""][:3]
    converters: dict[str, Callable[[str], object]] = {
        "s": str, "i": int, "l": int, "f": float, "d": float, "b": lambda v: v.lower() == "true",
        "n": lambda v: None}
    if kind not in converters:
        raise ValueError(f"unsupported binding type {kind!r} in {spec!r}")
    return name, converters[kind](value)


@command("content")
def _content(sh: Shell, args: list[str], stdin: bytes) -> Result:
    if not args:
        return fail("usage: content query|insert|update|delete --uri URI [--projection A:B] [--where W] "
                    "[--sort S] [--bind NAME:TYPE:VALUE]")
    verb, opts, binds = args[0], {}, []
    i = 1
    while i < len(args):
        if args[i] in ("--uri", "--projection", "--where", "--sort", "--user") and i + 1 < len(args):
            opts[args[i]] = args[i + 1]
            i += 2
        elif args[i] == "--bind" and i + 1 < len(args):
            binds.append(args[i + 1])
            i += 2
        else:
            return fail(f"Error while accessing provider: unsupported argument {args[i]!r}")
    uri = opts.get("--uri", "")
    table = _provider_rows(sh, uri)
    if table is None:
        return fail(f"Error while accessing provider:{uri}\njava.lang.IllegalArgumentException: Unknown URI {uri}")
    columns, rows = table
    try:
        bound = dict(_binding(b) for b in binds)
        if verb == "query":
            what = ", ".join(opts["--projection"].split(":")) if "--projection" in opts else ", ".join(columns)
            found = _select(columns, rows, what, opts.get("--where"), opts.get("--sort"))
            if not found:
                return ok("No result found.\n")
            return ok("".join(f"Row: {n} " + ", ".join(f"{k}={'NULL' if v is None else v}" for k, v in r.items())
                              + "\n" for n, r in enumerate(found)))
        ids = [r["_id"] for r in _select(columns, rows, "_id", opts.get("--where"), None)]
    except (sqlite3.Error, ValueError) as exc:
        return fail(f"Error while accessing provider:{uri}\nandroid.database.sqlite.SQLiteException: {exc}")
    return _change(sh, uri, verb, ids, bound)


def _change(sh: Shell, uri: str, verb: str, ids: list[object], bound: dict[str, object]) -> Result:
    state = sh.state
    with state.lock:
        if uri.startswith("content://settings/"):
            namespace = uri.removeprefix("content://settings/").strip("/")
            table = state.settings.setdefault(namespace, {})
            names = [k for i, k in enumerate(sorted(table)) if i + 1 in ids]
            if verb == "insert":
                table[str(bound.get("name", ""))] = str(bound.get("value", ""))
            elif verb == "delete":
                for name in names:
                    del table[name]
            elif verb == "update":
                for name in names:
                    table[name] = str(bound.get("value", table[name]))
            else:
                return fail(f"unknown content command {verb!r}")
            return Result()
        if verb == "insert":
            number = bound.get("number", bound.get("data1", ""))
            state.add_contact(str(bound.get("display_name", "")), str(number))
        elif verb == "delete":
            state.contacts = [c for c in state.contacts if c.id not in ids]
        elif verb == "update":
            state.contacts = [Contact(c.id, str(bound.get("display_name", c.display_name)),
                                      str(bound.get("number", bound.get("data1", c.number))))
                              if c.id in ids else c for c in state.contacts]
        else:
            return fail(f"unknown content command {verb!r}")
    return Result()


# --- input, screen and UI ----------------------------------------------------------------------------

#: Characters Android's virtual keyboard map can produce (``input text`` types nothing else).
TYPEABLE = frozenset(chr(c) for c in range(0x20, 0x7F))


def _ints(values: list[str]) -> list[int]:
    return [int(float(v)) for v in values]


@command("input")
def _input(sh: Shell, args: list[str], stdin: bytes) -> Result:
    args = list(args)
    if len(args) >= 2 and args[0] == "-d":
        args = args[2:]
    if args and args[0] in ("touchscreen", "touchpad", "keyboard", "mouse", "stylus", "dpad", "gamepad",
                            "trackball", "joystick", "touchnavigation"):
        args = args[1:]
    if not args:
        return fail("usage: input [<source>] [-d DISPLAY] <command> [<arg>...]")
    verb, rest = args[0], args[1:]
    phone = sh.phone
    try:
        if verb == "tap" and len(rest) == 2:
            phone.tap(*_ints(rest))
        elif verb in ("swipe", "draganddrop") and len(rest) in (4, 5):
            x1, y1, x2, y2 = _ints(rest[:4])
            phone.swipe(x1, y1, x2, y2, _ints(rest[4:])[0] if len(rest) == 5 else 300)
        elif verb == "text" and len(rest) == 1:
            text = rest[0].replace("%s", " ")
            bad = sorted({ch for ch in text if ch not in TYPEABLE})
            if bad:
                return fail(f"input text: the virtual keyboard has no key for {', '.join(map(repr, bad))}")
            phone.type_text(text)
        elif verb in ("keyevent", "press") and rest:
            codes = [r for r in rest if r not in ("--longpress", "--doubletap", "--delay")]
            for code in codes:
                key = code.upper().removeprefix("KEYCODE_")
                if key.isdigit():
                    phone.key(int(key))
                elif key in KEYCODES:
                    phone.key(KEYCODES[key])
                else:
                    return fail(f"Error: unknown keycode '{code}'")
        else:
            return fail(f"Error: Unknown command or wrong arguments: input {' '.join(args)}")
    except ValueError as exc:
        return fail(f"Error: bad number in 'input {' '.join(args)}': {exc}")
    return Result()


@command("screencap")
def _screencap(sh: Shell, args: list[str], stdin: bytes) -> Result:
    flags, rest = _flags([a for a in args if a not in ("-d",)])
    png = sh.phone.screencap()
    as_png = "p" in flags or (bool(rest) and rest[0].endswith(".png"))
    if as_png:
        data = png
    else:  # raw: width, height, format (RGBA_8888 = 1), colour space, then pixels
        image = Image.open(io.BytesIO(png)).convert("RGBA")
        data = struct.pack("<IIII", image.width, image.height, 1, 0) + image.tobytes()
    if rest:
        try:
            sh.state.write_file(rest[0], data)
        except (FileNotFoundError, IsADirectoryError):
            return fail(f"Error opening file: {rest[0]} (No such file or directory)")
        return Result()
    return Result(stdout=data)


@command("uiautomator")
def _uiautomator(sh: Shell, args: list[str], stdin: bytes) -> Result:
    rest = [a for a in args[1:] if a != "--compressed"] if args else []
    if not args or args[0] != "dump":
        return fail("Usage: uiautomator dump [--compressed] [FILE]\n(only 'dump' exists on the simulated device)")
    target = rest[0] if rest else "/sdcard/window_dump.xml"
    xml = sh.phone.dump()
    if target == "/dev/tty":
        return ok(xml + "UI hierchary dumped to: /dev/tty\n")
    try:
        sh.state.write_file(normalize_path(target), xml.encode("utf-8"))
    except (FileNotFoundError, IsADirectoryError):
        return fail(f"ERROR: could not write {target}")
    return ok(f"UI hierchary dumped to: {target}\n")


# --- activities and packages ---------------------------------------------------------------------------


def _packages(sh: Shell) -> list[str]:
    return sorted({*sh.phone.apps, *SYSTEM_PACKAGES})


@command("am")
def _am(sh: Shell, args: list[str], stdin: bytes) -> Result:
    if not args:
        return fail("usage: am start|force-stop|kill ...")
    verb, rest = args[0], args[1:]
    phone = sh.phone
    if verb in ("force-stop", "kill") and rest:
        phone.force_stop(rest[-1])
        return Result()
    if verb not in ("start", "start-activity"):
        return fail(f"Error: unknown command '{verb}'")
    opts: dict[str, str] = {}
    fresh = False
    i = 0
    while i < len(rest):
        if rest[i] in ("-n", "-a", "-d", "-c", "-t", "--user") and i + 1 < len(rest):
            opts[rest[i]] = rest[i + 1]
            i += 2
        else:
            fresh = fresh or rest[i] == "-S"
            i += 1
    if opts.get("-c") == "android.intent.category.HOME":
        phone.start(LAUNCHER)
        return ok("Starting: Intent { act=android.intent.action.MAIN cat=[android.intent.category.HOME] }\n")
    component = opts.get("-n")
    if component is None:
        return fail(f"Error: Activity not started, unable to resolve Intent {{ act={opts.get('-a', '')} }}")
    package, _, activity = component.partition("/")
    app = phone.apps.get(package)
    full = activity if not activity.startswith(".") else package + activity
    if app is None or full != app.full_activity():
        return Result(stdout=f"Starting: Intent {{ cmp={component} }}\n".encode(),
                      stderr=f"Error type 3\nError: Activity class {{{component}}} does not exist.\n".encode(),
                      status=1)
    phone.start(package, fresh=fresh)
    return ok(f"Starting: Intent {{ cmp={component} }}\n")


@command("monkey")
def _monkey(sh: Shell, args: list[str], stdin: bytes) -> Result:
    if "-p" in args and args.index("-p") + 1 < len(args) and sh.phone.start(args[args.index("-p") + 1]):
        return ok("  bash arg: -p\nEvents injected: 1\n")
    return Result(stdout=b"** No activities found to run, monkey aborted.\n", status=252)


@command("pm")
def _pm(sh: Shell, args: list[str], stdin: bytes) -> Result:
    if len(args) >= 2 and args[:2] == ["list", "packages"]:
        _, rest = _flags(args[2:])
        names = [p for p in _packages(sh) if not rest or rest[0] in p]
        return ok("".join(f"package:{p}\n" for p in names))
    if len(args) == 2 and args[0] == "clear":
        if args[1] not in _packages(sh):
            return fail("Failed")
        sh.phone.force_stop(args[1])
        if args[1] == "com.android.providers.contacts":
            sh.state.contacts = []
        return ok("Success\n")
    if len(args) == 2 and args[0] == "path":
        if args[1] not in _packages(sh):
            return Result(status=1)
        return ok(f"package:/system/app/{args[1]}/base.apk\n")
    return fail("usage: pm list packages [FILTER] | pm clear PACKAGE | pm path PACKAGE")


@command("wm")
def _wm(sh: Shell, args: list[str], stdin: bytes) -> Result:
    if args == ["size"]:
        return ok(f"Physical size: {sh.state.width}x{sh.state.height}\n")
    if args == ["density"]:
        return ok(f"Physical density: {sh.state.density}\n")
    return fail("usage: wm size | wm density (read-only on the simulated device)")


@command("dumpsys")
def _dumpsys(sh: Shell, args: list[str], stdin: bytes) -> Result:
    service = args[0] if args else ""
    package, activity = sh.phone.focused_activity()
    if service == "window":
        return ok(f"  mCurrentFocus=Window{{1a2b3c u0 {package}/{activity}}}\n"
                  f"  mFocusedApp=ActivityRecord{{4d5e6f u0 {package}/{activity} t1}}\n")
    if service == "activity":
        return ok(f"  mResumedActivity: ActivityRecord{{4d5e6f u0 {package}/{activity} t1}}\n"
                  f"  ACTIVITY {package}/{activity} 4d5e6f pid=1234\n")
    if service == "power":
        awake = sh.phone.awake
        return ok(f"  mWakefulness={'Awake' if awake else 'Asleep'}\n"
                  f"  Display Power: state={'ON' if awake else 'OFF'}\n")
    if service == "display":
        return ok("  mCurrentOrientation=0\n  orientation=0\n")
    if service == "battery":
        return ok("Current Battery Service state:\n  AC powered: true\n  level: 100\n  scale: 100\n  status: 5\n")
    return ok(f"(the simulated device has no dumpsys output for {service!r})\n")


@command("svc")
def _svc(sh: Shell, args: list[str], stdin: bytes) -> Result:
    keys = {"wifi": "wifi_on", "bluetooth": "bluetooth_on", "data": "mobile_data"}
    if len(args) == 2 and args[0] in keys and args[1] in ("enable", "disable"):
        sh.state.put_setting("global", keys[args[0]], "1" if args[1] == "enable" else "0")
        return Result()
    return fail("usage: svc wifi|bluetooth|data enable|disable")


@command("cmd")
def _cmd(sh: Shell, args: list[str], stdin: bytes) -> Result:
    if len(args) == 3 and args[:2] == ["connectivity", "airplane-mode"] and args[2] in ("enable", "disable"):
        sh.state.put_setting("global", "airplane_mode_on", "1" if args[2] == "enable" else "0")
        return Result()
    if len(args) == 3 and args[:2] == ["wifi", "set-wifi-enabled"] and args[2] in ("enabled", "disabled"):
        sh.state.put_setting("global", "wifi_on", "1" if args[2] == "enabled" else "0")
        return Result()
    return fail(f"cmd: the simulated device does not implement 'cmd {' '.join(args)}'")
