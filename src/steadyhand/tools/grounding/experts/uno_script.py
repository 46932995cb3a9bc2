"""The script the structural expert runs inside a desktop to reach LibreOffice through UNO.

It is a constant: the request's data reaches it as one JSON argument, never as
code. It runs under the desktop's ``python3`` (Debian's ``python3-uno``), asks the
running LibreOffice to accept UNO connections on a pipe named after the desktop
(several desktops on one machine never meet), and prints one JSON line:
``{"documents": [...]}`` for ``op=list``, ``{"written": n, ...}`` for ``op=set``,
``{"cells": {ref: {string, value, formula}}}`` for ``op=get``,
or ``{"error": "..."}``. It never starts LibreOffice itself.
"""

UNO_SCRIPT = r'''
import json, os, re, subprocess, sys, time

def out(value):
    print(json.dumps(value))
    sys.exit(0)

try:
    import uno
    from com.sun.star.connection import NoConnectException
except ImportError as exc:
    print("no uno module: %s" % exc, file=sys.stderr)
    sys.exit(3)

payload = json.loads(sys.argv[1])
running = False
for pid in os.listdir("/proc"):
    try:
        if pid.isdigit() and open("/proc/%s/comm" % pid).read().strip() == "soffice.bin":
            running = True
            break
    except OSError:
        pass
if not running:
    out({"documents": []} if payload["op"] == "list" else {"error": "LibreOffice is not running"})

name = "steadyhand_" + re.sub(r"\W", "_", os.environ.get("DISPLAY", "") + "_" + os.environ.get("HOME", ""))
url = "uno:pipe,name=%s;urp;StarOffice.ComponentContext" % name
local = uno.getComponentContext()
resolver = local.ServiceManager.createInstanceWithContext("com.sun.star.bridge.UnoUrlResolver", local)
ctx = None
for attempt in range(40):
    try:
        ctx = resolver.resolve(url)
        break
    except NoConnectException:
        if attempt == 0:
            subprocess.run(["soffice", "--accept=pipe,name=%s;urp;StarOffice.ComponentContext" % name],
                           stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                           timeout=30)
        time.sleep(0.25)
if ctx is None:
    out({"error": "LibreOffice did not accept a UNO connection on pipe %s" % name})
desktop = ctx.ServiceManager.createInstanceWithContext("com.sun.star.frame.Desktop", ctx)

docs = []
components = desktop.getComponents().createEnumeration()
while components.hasMoreElements():
    doc = components.nextElement()
    if not doc.supportsService("com.sun.star.sheet.SpreadsheetDocument"):
        continue
    try:
        title = doc.getCurrentController().getFrame().getTitle()
    except Exception:
        title = doc.getTitle() if hasattr(doc, "getTitle") else ""
    try:
        active = doc.getCurrentController().getActiveSheet().getName()
    except Exception:
        active = None
    docs.append((doc, {"title": title, "url": doc.getURL(), "sheets": list(doc.getSheets().getElementNames()),
                       "active_sheet": active}))

if payload["op"] == "list":
    out({"documents": [info for _, info in docs]})

app = (payload.get("app") or "").lower()
chosen = None
for doc, info in docs:
    title = info["title"].lower()
    base = os.path.basename(info["url"]).lower()
    if not app or app in title or app in base or title.startswith(app):
        chosen = (doc, info)
        break
if chosen is None:
    out({"error": "no open spreadsheet matches %r; open: %s" % (payload.get("app"),
                                                                [i["title"] for _, i in docs])})
doc, info = chosen
sheets = doc.getSheets()
sheet_name = payload.get("sheet") or info["active_sheet"]
if not sheets.hasByName(sheet_name):
    out({"error": "no sheet %r in %r; sheets: %s" % (sheet_name, info["title"], info["sheets"])})
sheet = sheets.getByName(sheet_name)

def index(ref):
    letters, digits = re.match(r"([A-Z]+)(\d+)$", ref).groups()
    column = 0
    for ch in letters:
        column = column * 26 + ord(ch) - 64
    return column - 1, int(digits) - 1

if payload["op"] == "get":
    values = {}
    for ref in payload["cells"]:
        cell = sheet.getCellByPosition(*index(ref))
        values[ref] = {"string": cell.getString(), "value": cell.getValue(), "formula": cell.getFormula()}
    out({"cells": values, "document": info["title"], "sheet": sheet_name})

for ref, value in payload["cells"].items():
    col, row = index(ref)
    cell = sheet.getCellByPosition(col, row)
    if value is None:
        cell.setString("")
    elif isinstance(value, bool):
        cell.setValue(1 if value else 0)
    elif isinstance(value, (int, float)):
        cell.setValue(value)
    elif isinstance(value, str) and value.startswith("="):
        cell.setFormula(value)
    else:
        cell.setString(str(value))
out({"written": len(payload["cells"]), "document": info["title"], "sheet": sheet_name})
'''
