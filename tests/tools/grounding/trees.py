"""A small accessibility tree in OSWorld's XML form, as the desktop server returns it."""

CP = "https://accessibility.ubuntu.example.org/ns/component"
ST = "https://accessibility.ubuntu.example.org/ns/state"


def node(role: str, name: str, box: tuple[int, int, int, int], *children: str, active: bool = False,
         showing: bool = True, text: str = "") -> str:
    x, y, w, h = box
    states = (' st:showing="true" st:visible="true"' if showing else "") + (' st:active="true"' if active else "")
    return (f'<{role} name="{name}"{states} cp:screencoord="({x}, {y})" cp:size="({w}, {h})">'
            f'{text}{"".join(children)}</{role}>')


def tree(*apps: str) -> str:
    return f'<desktop-frame xmlns:st="{ST}" xmlns:cp="{CP}">{"".join(apps)}</desktop-frame>'


EDITOR = tree(
    '<application name="editor">'
    + node("frame", "notes.txt - Editor", (0, 0, 800, 600),
           node("menu-bar", "", (0, 20, 800, 25),
                node("menu", "File", (0, 20, 40, 25)), node("menu", "Edit", (40, 20, 40, 25))),
           node("push-button", "Save", (100, 50, 60, 30)),
           node("push-button", "Save As", (170, 50, 80, 30)),
           node("label", "Saved", (300, 50, 60, 30)),
           node("check-box", "Wrap lines", (400, 50, 120, 30)),
           node("push-button", "Hidden", (600, 50, 60, 30), showing=False),
           active=True)
    + "</application>",
    '<application name="other">' + node("frame", "Other", (0, 0, 300, 300),
                                         node("push-button", "Save", (10, 400, 60, 30))) + "</application>")
