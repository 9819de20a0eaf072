"""XLSForm import and export (the format of forms written in Excel, KoboToolbox and ODK).

Sheets: ``survey`` (type, name, ``label::Language (tag)``, ``hint::...``, required, relevant,
constraint, appearance, parameters), ``choices`` (list_name, name, ``label::...``), ``settings``
(form_title, form_id, version, default_language) and, written by LoyaltyLab and optional on
import, ``loyaltylab_constructs`` (code, ``name::...``, ``definition::...``).

Mapping (survey ``type`` -> item type):

- ``begin_group``/``end_group`` at the top level -> a section; a group with appearance
  ``table-list`` inside a section -> a matrix whose rows are the group's ``select_one``
  questions on one likert list (a row's own ``relevant`` is the row's display condition);
  other nested groups are flattened (their ``relevant`` is combined with each question's).
- ``select_one L`` -> single choice; with appearance ``minimal`` -> dropdown; with appearance
  ``likert`` (list values 1..k, optionally ``na`` last) -> Likert item (choice labels are the
  anchors; labels that are just the number mean "unlabelled"); with column
  ``loyaltylab_type`` = ``nps`` (list 0..10, labels of 0 and 10 are the end labels) -> NPS; with
  ``loyaltylab_expected`` -> attention check.
- ``select_multiple L`` -> multiple choice, ``count-selected(.)`` constraints -> min/max.
- ``integer``/``decimal``/``range`` -> numeric, ``. >= a and . <= b`` -> min/max.
- ``text`` -> short text (appearance ``multiline`` -> long text), ``string-length(.) <= n``
  -> maximum length. ``note`` -> instruction.
- Columns ``loyaltylab_construct``, ``loyaltylab_reverse`` and ``loyaltylab_randomize`` carry the
  construct, reverse keying and random order, ``loyaltylab_role`` = ``contact_permission`` marks
  the question asking for permission to contact; other tools ignore them.
- Language columns ``label::English (en)`` and ``label::Chinese (zh)`` map to ``en`` and
  ``zh-CN``; any other ``(tag)`` is kept as the BCP-47 tag.

Metadata questions (start, end, today, deviceid ...) are skipped; anything else unsupported
(calculate, repeats, geopoints, ``or_other`` ...) is reported. Defensive reading: at most 5 MB,
a real XLSX (zip) file, at most 50 MB uncompressed, 20 sheets, 2,000 rows and 200 columns per
sheet (:data:`MAX_ROWS`, :data:`MAX_COLUMNS`); openpyxl reads in read-only mode. Every problem
is reported with its sheet and row, and nothing is returned unless the whole form converts.
"""

from surveys.xlsform.common import language_column, language_from_column
from surveys.xlsform.exporter import export_xlsform
from surveys.xlsform.importer import MAX_COLUMNS, MAX_ROWS, import_xlsform

__all__ = [
    "MAX_COLUMNS",
    "MAX_ROWS",
    "export_xlsform",
    "import_xlsform",
    "language_column",
    "language_from_column",
]
