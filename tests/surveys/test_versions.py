"""Differences between versions and the flags for changes that break wave-to-wave comparability."""

from __future__ import annotations

from surveys.versions import diff_definitions


def find(data, code):
    for section in data["sections"]:
        for item in section["items"]:
            if item["code"] == code:
                return item
            for row in item.get("rows", []):
                if row["code"] == code:
                    return row
    raise KeyError(code)


def test_identical_versions_have_no_differences(definition, build):
    assert diff_definitions(definition, build()).changes == ()


def test_wording_changes_are_listed_but_do_not_break_comparability(definition, build):
    def change(data):
        find(data, "sat1")["label"]["en"] = "All in all, I am satisfied."
        find(data, "sat1")["help"] = {"en": "Think of the last year", "zh-CN": "请回想过去一年"}
        find(data, "region")["options"][0]["label"]["en"] = "The north"
        find(data, "visits")["required"] = True

    diff = diff_definitions(definition, build(change))
    assert diff.kinds("sat1") == {"label_changed", "help_changed"}
    assert diff.kinds("region") == {"option_labels_changed"}
    assert diff.kinds("visits") == {"required_changed"}
    assert diff.breaking == ()


def test_a_matrix_rows_display_condition_change_is_listed_for_that_row(definition, build):
    def change(data):
        find(data, "val2")["condition"] = {"item": "complained", "op": "eq", "value": "no"}

    diff = diff_definitions(definition, build(change))
    assert diff.kinds("val2") == {"condition_changed"}
    assert diff.kinds("val1") == set() and diff.breaking == ()


def test_comparability_breaks_are_flagged(definition, build):
    def change(data):
        scale = find(data, "sat1")["scale"]
        scale["points"], scale["anchors"] = 7, scale["anchors"]
        find(data, "val2")["construct"] = "SAT"
        find(data, "sat3")["reverse"] = False
        find(data, "sat2")["construct"] = None
        find(data, "region")["options"][1]["value"] = "west"

    diff = diff_definitions(definition, build(change))
    breaking = {(c.kind, c.code) for c in diff.breaking}
    assert breaking == {
        ("scale_points_changed", "sat1"),
        ("construct_changed", "val2"),
        ("reverse_changed", "sat3"),
        ("removed_from_construct", "sat2"),
        ("option_values_changed", "region"),
    }
    messages = {c.kind: c.message() for c in diff.breaking}
    assert messages["scale_points_changed"] == "The scale of sat1 changed from 5 to 7 points."
    assert messages["construct_changed"] == "Item val2 moved from construct VAL to SAT."
    assert messages["reverse_changed"] == (
        "Reverse keying of sat3 changed (reverse-keyed → not reverse-keyed)."
    )
    zh = {c.kind: c.message("zh-CN") for c in diff.breaking}
    assert zh["construct_changed"] == "题目 val2 由构念 VAL 移到 SAT。"


def test_matrix_scale_change_flags_every_row(definition, build):
    diff = diff_definitions(definition, build(lambda d: find(d, "grid")["scale"].update(points=7)))
    flagged = {c.code for c in diff.breaking if c.kind == "scale_points_changed"}
    assert flagged == {"grid", "sat2", "sat3", "val1", "val2"}


def test_removing_and_adding_scale_items(definition, build):
    def change(data):
        rows = find(data, "grid")["rows"]
        rows.pop(0)  # sat2 leaves
        rows.append({"code": "val3", "label": {"en": "Fair", "zh-CN": "公平"}, "construct": "VAL"})
        data["sections"][0]["items"].pop(1)  # visits, not a scale item

    diff = diff_definitions(definition, build(change))
    assert diff.kinds("sat2") == {"item_removed", "removed_from_construct"}
    assert diff.kinds("val3") == {"item_added", "added_to_construct"}
    assert diff.kinds("visits") == {"item_removed"}
    assert {c.code for c in diff.breaking} == {"sat2", "val3"}


def test_moves_are_detected_without_blaming_every_later_item(definition, build):
    def change(data):
        first, second = data["sections"]
        second["items"].insert(0, first["items"].pop(3))  # region moves to section 2
        second["items"].insert(
            1,
            {
                "type": "short_text",
                "code": "extra",
                "label": {"en": "Extra", "zh-CN": "附加"},
            },
        )

    diff = diff_definitions(definition, build(change))
    moved = [c for c in diff.changes if c.kind == "moved"]
    assert [c.code for c in moved] == ["region"]
    assert moved[0].before == "s1 #4" and moved[0].after == "s2 #4"
    assert diff.kinds("extra") == {"item_added"}


def test_questionnaire_level_changes(definition, build):
    def change(data):
        data["model"] = "SAT ~ VAL"
        data["constructs"].append({"code": "LOY", "name": {"en": "Loyalty"}})
        data["sections"][1]["condition"] = {"item": "complained", "op": "eq", "value": "yes"}
        data["title"]["en"] = "Survey 2026"

    kinds = {(c.kind, c.code) for c in diff_definitions(definition, build(change)).changes}
    assert kinds == {
        ("model_changed", "model"),
        ("construct_added", "LOY"),
        ("condition_changed", "s2"),
        ("questionnaire_changed", "title"),
    }
