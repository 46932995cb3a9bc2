"""Built-in grounding experts; importing this package registers them.

=================  ===============================================  =====================================
name               what it reads                                    spec
=================  ===============================================  =====================================
``accessibility``  the AT-SPI tree (OSWorld XML) in the observation  ``[?min_score=0.6]``
``textual``        OCR word boxes of the screenshot                 ``tesseract`` or ``rapidocr`` [options]
``visual``         any OpenAI-compatible vision model               ``openai:<model>@<url>?space=0-1000``
``structural``     spreadsheet cells (LibreOffice UNO, openpyxl)    ``auto``, ``uno`` or ``openpyxl``
``candidates``     a text model choosing among OCR + tree entries   a model spec (``local:smollm2``)
``android_ui``     an Android screen's UI elements (uiautomator)    ``[?min_score=0.6]``
=================  ===============================================  =====================================

Heavy dependencies (pytesseract, rapidocr, openpyxl, the model clients) load
when an expert is built, not when this package is imported.
"""

from steadyhand.tools.grounding.experts.accessibility import AccessibilityExpert
from steadyhand.tools.grounding.experts.android_ui import AndroidUIExpert
from steadyhand.tools.grounding.experts.candidates import CandidatesExpert
from steadyhand.tools.grounding.experts.structural import StructuralExpert
from steadyhand.tools.grounding.experts.textual import TextualExpert
from steadyhand.tools.grounding.experts.visual import VisualExpert

__all__ = ["AccessibilityExpert", "AndroidUIExpert", "CandidatesExpert", "StructuralExpert", "TextualExpert",
           "VisualExpert"]
