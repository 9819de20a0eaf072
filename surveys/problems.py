"""Structured problems found in a questionnaire, an import or a set of answers.

A problem carries a stable message id (``code``), where it was found (``where``, a path of
``(kind, value)`` pairs such as ``(("section", 2), ("item", "sat3"))``) and the parameters of its
message. The web layer may translate by id; :meth:`Problem.message` renders English or Chinese
from the catalogue below so that every caller has a clear message without further work.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

Where = tuple[tuple[str, str | int], ...]

MESSAGES: dict[str, dict[str, str]] = {
    # Codes and texts
    "code.invalid": {
        "en": "The code '{code}' is not a valid variable name: start with a letter, then letters, "
        "digits or underscores, at most {max_length} characters, not a reserved word.",
        "zh-CN": "编码“{code}”不是有效的变量名:须以字母开头,只含字母、数字或下划线,"
        "不超过 {max_length} 个字符,且不能是保留字。",
    },
    "code.duplicate": {
        "en": "The code '{code}' is used more than once; every code must be unique.",
        "zh-CN": "编码“{code}”重复使用;每个编码必须唯一。",
    },
    "text.empty": {
        "en": "The {field} is empty.",
        "zh-CN": "{field}为空。",
    },
    "text.unknown_language": {
        "en": "The {field} has a text in '{language}', which is not one of the questionnaire's "
        "languages ({languages}).",
        "zh-CN": "{field}含有“{language}”语言的文本,但问卷语言只有:{languages}。",
    },
    "text.missing_translation": {
        "en": "The {field} has no {language} translation.",
        "zh-CN": "{field}缺少 {language} 翻译。",
    },
    "text.too_long": {
        "en": "The {field} is longer than {max_length} characters.",
        "zh-CN": "{field}超过 {max_length} 个字符。",
    },
    "languages.empty": {
        "en": "The questionnaire needs at least one language.",
        "zh-CN": "问卷至少需要一种语言。",
    },
    "languages.invalid": {
        "en": "'{language}' is not a valid language tag (BCP 47, e.g. 'en' or 'zh-CN').",
        "zh-CN": "“{language}”不是有效的语言标记(BCP 47,例如 en 或 zh-CN)。",
    },
    "languages.duplicate": {
        "en": "The language '{language}' is listed twice.",
        "zh-CN": "语言“{language}”重复列出。",
    },
    "sections.empty": {
        "en": "The questionnaire has no section.",
        "zh-CN": "问卷没有任何部分。",
    },
    "questionnaire.no_questions": {
        "en": "The questionnaire has no question to answer.",
        "zh-CN": "问卷中没有需要回答的题目。",
    },
    "questionnaire.too_large": {
        "en": "The questionnaire has more than {limit} {what}.",
        "zh-CN": "问卷的{what}超过 {limit} 个。",
    },
    # Per item type
    "item.instruction_required": {
        "en": "An instruction text cannot be required: there is nothing to answer.",
        "zh-CN": "说明文字不能设为必答:它没有需要回答的内容。",
    },
    "likert.points": {
        "en": "A rating scale needs between {min} and {max} points, not {points}.",
        "zh-CN": "量表的点数须在 {min} 到 {max} 之间,而不是 {points}。",
    },
    "likert.anchors": {
        "en": "A {points}-point scale needs either 2 anchor labels (its ends) or {points}, "
        "not {count}.",
        "zh-CN": "{points} 点量表需要 2 个端点标签或 {points} 个标签,而不是 {count} 个。",
    },
    "matrix.no_rows": {
        "en": "A matrix needs at least one row.",
        "zh-CN": "矩阵题至少需要一行。",
    },
    "choice.too_few_options": {
        "en": "A choice question needs at least {min} options.",
        "zh-CN": "选择题至少需要 {min} 个选项。",
    },
    "choice.too_many_options": {
        "en": "A choice question may have at most {max} options.",
        "zh-CN": "选择题最多只能有 {max} 个选项。",
    },
    "choice.value_invalid": {
        "en": "The option value '{value}' is not valid: use letters, digits, '_', '-' or '.', "
        "at most {max_length} characters, no spaces.",
        "zh-CN": "选项值“{value}”无效:只能使用字母、数字、“_”、“-”或“.”,"
        "不超过 {max_length} 个字符,不含空格。",
    },
    "choice.value_duplicate": {
        "en": "The option value '{value}' is used more than once.",
        "zh-CN": "选项值“{value}”重复。",
    },
    "choice.label_duplicate": {
        "en": "Two options have the same {language} label '{label}'.",
        "zh-CN": "两个选项的 {language} 标签相同:“{label}”。",
    },
    "multiple.min_max": {
        "en": "The minimum number of selections ({min}) is larger than the maximum ({max}).",
        "zh-CN": "最少选择数({min})大于最多选择数({max})。",
    },
    "multiple.bound_range": {
        "en": "The {bound} number of selections must be between 1 and the number of options "
        "({options}), not {value}.",
        "zh-CN": "{bound}选择数须在 1 到选项数({options})之间,而不是 {value}。",
    },
    "numeric.min_max": {
        "en": "The minimum ({min}) is larger than the maximum ({max}).",
        "zh-CN": "最小值({min})大于最大值({max})。",
    },
    "numeric.integer_bounds": {
        "en": "A whole-number question needs whole-number limits, not {value}.",
        "zh-CN": "整数题的上下限必须是整数,而不是 {value}。",
    },
    "text.max_length_range": {
        "en": "The maximum answer length must be between 1 and {max}, not {value}.",
        "zh-CN": "最大作答长度须在 1 到 {max} 之间,而不是 {value}。",
    },
    "attention.expected_unknown": {
        "en": "The instructed answer '{value}' is not one of the options.",
        "zh-CN": "指定答案“{value}”不在选项之中。",
    },
    "scale.construct_unknown": {
        "en": "The construct '{construct}' is not defined in this questionnaire.",
        "zh-CN": "构念“{construct}”未在本问卷中定义。",
    },
    # Constructs and model
    "model.syntax": {
        "en": "The structural model has a syntax error: {error}",
        "zh-CN": "结构模型存在语法错误:{error}",
    },
    "model.too_long": {
        "en": "The structural model is too long: at most {limit} characters are accepted.",
        "zh-CN": "结构模型过长:最多接受 {limit} 个字符。",
    },
    "model.expression_too_long": {
        "en": "A defined parameter (:=) of the structural model is too long: at most {limit} "
        "terms and operators are accepted.",
        "zh-CN": "结构模型中的定义参数(:=)过长:最多接受 {limit} 个项和运算符。",
    },
    "model.expression_too_deep": {
        "en": "A defined parameter (:=) of the structural model nests parentheses too deeply: "
        "at most {limit} levels are accepted.",
        "zh-CN": "结构模型中的定义参数(:=)括号嵌套过深:最多接受 {limit} 层。",
    },
    "model.unknown_construct": {
        "en": "The structural model uses '{construct}', which is not a construct of this "
        "questionnaire.",
        "zh-CN": "结构模型使用了“{construct}”,但它不是本问卷的构念。",
    },
    "model.too_few_items": {
        "en": "The construct {construct} is in the model but has {count} item(s); a latent "
        "construct needs at least 2.",
        "zh-CN": "构念 {construct} 在模型中,但只有 {count} 个题目;潜变量至少需要 2 个题目。",
    },
    "model.measurement_given": {
        "en": "Write only the structural part (e.g. 'VAL ~ SAT'); the measurement part (=~) is "
        "derived from the items' constructs.",
        "zh-CN": "只需填写结构部分(例如 VAL ~ SAT);测量部分(=~)由题目所属构念自动生成。",
    },
    # Display logic
    "logic.unknown_item": {
        "en": "The display condition refers to '{ref}', which is not a question of this "
        "questionnaire.",
        "zh-CN": "显示条件引用了“{ref}”,但它不是本问卷中的题目。",
    },
    "logic.forward": {
        "en": "The display condition refers to '{ref}', which is not asked before this point; "
        "conditions may only use earlier answers.",
        "zh-CN": "显示条件引用了“{ref}”,但该题不在此处之前;条件只能使用之前的回答。",
    },
    "logic.self": {
        "en": "The display condition refers to '{ref}', which is part of what it shows or hides.",
        "zh-CN": "显示条件引用了“{ref}”,而该题正是受此条件控制的内容。",
    },
    "logic.random_order": {
        "en": "The display condition refers to '{ref}' in the same randomly ordered section, "
        "which may be shown after this item.",
        "zh-CN": "显示条件引用了同一随机排序部分中的“{ref}”,该题可能显示在本题之后。",
    },
    "logic.not_answerable": {
        "en": "The display condition refers to '{ref}', which has no answer (an instruction or a "
        "matrix heading; use a matrix row's code).",
        "zh-CN": "显示条件引用了“{ref}”,但它没有答案(说明文字或矩阵标题;请使用矩阵行的编码)。",
    },
    "logic.operator": {
        "en": "The operator '{op}' cannot be used with '{ref}' (a {item_type} question).",
        "zh-CN": "运算符“{op}”不能用于“{ref}”({item_type}题)。",
    },
    "logic.value": {
        "en": "The value {value} does not fit '{ref}': {expected}.",
        "zh-CN": "值 {value} 与“{ref}”不符:{expected}。",
    },
    "logic.too_deep": {
        "en": "The display condition is nested more than {max} levels deep.",
        "zh-CN": "显示条件嵌套超过 {max} 层。",
    },
    # Answers
    "answer.required": {
        "en": "Please answer this question.",
        "zh-CN": "请回答此题。",
    },
    "answer.not_an_option": {
        "en": "The answer '{value}' is not one of the options.",
        "zh-CN": "答案“{value}”不在选项之中。",
    },
    "answer.not_a_number": {
        "en": "Please enter a number.",
        "zh-CN": "请输入数字。",
    },
    "answer.not_an_integer": {
        "en": "Please enter a whole number.",
        "zh-CN": "请输入整数。",
    },
    "answer.below_min": {
        "en": "Please enter a value of at least {min}.",
        "zh-CN": "请输入不小于 {min} 的数值。",
    },
    "answer.above_max": {
        "en": "Please enter a value of at most {max}.",
        "zh-CN": "请输入不大于 {max} 的数值。",
    },
    "answer.out_of_range": {
        "en": "Please choose a value from {min} to {max}.",
        "zh-CN": "请选择 {min} 到 {max} 之间的数值。",
    },
    "answer.not_applicable_not_allowed": {
        "en": "'Not applicable' is not an option for this question.",
        "zh-CN": "此题没有“不适用”选项。",
    },
    "answer.too_few_selections": {
        "en": "Please choose at least {min}.",
        "zh-CN": "请至少选择 {min} 项。",
    },
    "answer.too_many_selections": {
        "en": "Please choose at most {max}.",
        "zh-CN": "最多只能选择 {max} 项。",
    },
    "answer.single_value_expected": {
        "en": "Please choose only one answer.",
        "zh-CN": "只能选择一个答案。",
    },
    "answer.too_long": {
        "en": "Please shorten your answer to at most {max_length} characters.",
        "zh-CN": "请将回答缩短到 {max_length} 个字符以内。",
    },
    "answer.hidden": {
        "en": "This question is not shown for your earlier answers and must be left empty.",
        "zh-CN": "根据您之前的回答,此题不显示,应留空。",
    },
    # Imports
    "import.too_large": {
        "en": "The file is {size} bytes; the limit is {limit} bytes (5 MB).",
        "zh-CN": "文件大小为 {size} 字节,上限为 {limit} 字节(5 MB)。",
    },
    "import.empty": {
        "en": "The file is empty.",
        "zh-CN": "文件为空。",
    },
    "import.not_json": {
        "en": "The file is not valid JSON: {error}",
        "zh-CN": "文件不是有效的 JSON:{error}",
    },
    "import.number_too_long": {
        "en": "The file contains a number with more digits than any questionnaire needs.",
        "zh-CN": "文件中的某个数字位数过多,超出任何问卷的需要。",
    },
    "import.too_deep": {
        "en": "The file nests lists and objects more than {limit} levels deep; a questionnaire "
        "needs far fewer.",
        "zh-CN": "文件中列表和对象的嵌套超过 {limit} 层,问卷远不需要这么深。",
    },
    "import.not_utf8": {
        "en": "The file is not UTF-8 text.",
        "zh-CN": "文件不是 UTF-8 文本。",
    },
    "import.not_xlsx": {
        "en": "The file is not an Excel workbook (.xlsx){detail}.",
        "zh-CN": "文件不是 Excel 工作簿(.xlsx){detail}。",
    },
    "import.unknown_format": {
        "en": "'{filename}' is neither a .json nor an .xlsx file.",
        "zh-CN": "“{filename}”既不是 .json 文件也不是 .xlsx 文件。",
    },
    "import.schema": {
        "en": "The file does not follow the questionnaire format: {error}",
        "zh-CN": "文件不符合问卷格式:{error}",
    },
    "import.too_many_rows": {
        "en": "The sheet has more than {limit} rows.",
        "zh-CN": "工作表超过 {limit} 行。",
    },
    "import.too_many_columns": {
        "en": "The sheet has more than {limit} columns.",
        "zh-CN": "工作表超过 {limit} 列。",
    },
    "import.too_many_sheets": {
        "en": "The workbook has more than {limit} sheets.",
        "zh-CN": "工作簿超过 {limit} 个工作表。",
    },
    "import.uncompressed_too_large": {
        "en": "The workbook expands to more than {limit} bytes.",
        "zh-CN": "工作簿解压后超过 {limit} 字节。",
    },
    "xlsform.missing_sheet": {
        "en": "The workbook has no '{sheet}' sheet.",
        "zh-CN": "工作簿缺少“{sheet}”工作表。",
    },
    "xlsform.missing_column": {
        "en": "The sheet has no '{column}' column.",
        "zh-CN": "工作表缺少“{column}”列。",
    },
    "xlsform.language_column": {
        "en": "The column '{column}' does not say its language; write e.g. 'label::English (en)'.",
        "zh-CN": "列“{column}”未注明语言;请写成例如“label::Chinese (zh)”。",
    },
    "xlsform.unsupported_type": {
        "en": "The question type '{type}' is not supported.",
        "zh-CN": "不支持题型“{type}”。",
    },
    "xlsform.unknown_list": {
        "en": "The choice list '{list}' is not on the choices sheet.",
        "zh-CN": "选项列表“{list}”不在 choices 工作表中。",
    },
    "xlsform.unbalanced_group": {
        "en": "'{type}' has no matching {other}.",
        "zh-CN": "“{type}”没有对应的 {other}。",
    },
    "xlsform.matrix_row": {
        "en": "Every question of a table-list group must be a select_one on the same list "
        "('{list}').",
        "zh-CN": "table-list 分组中的每道题都必须是使用同一列表(“{list}”)的 select_one 题。",
    },
    "xlsform.relevant": {
        "en": "The relevant expression '{expression}' cannot be converted: {error}",
        "zh-CN": "relevant 表达式“{expression}”无法转换:{error}",
    },
    "xlsform.constraint": {
        "en": "The constraint '{expression}' cannot be converted; supported are ranges such as "
        "'. >= 0 and . <= 10', 'count-selected(.) <= 3' and 'string-length(.) <= 200'.",
        "zh-CN": "约束“{expression}”无法转换;支持的形式如“. >= 0 and . <= 10”、"
        "“count-selected(.) <= 3”和“string-length(.) <= 200”。",
    },
    "xlsform.bad_value": {
        "en": "The value '{value}' in column '{column}' is not valid: {expected}.",
        "zh-CN": "列“{column}”中的值“{value}”无效:{expected}。",
    },
    "xlsform.construct_on_non_scale": {
        "en": "Only rating-scale questions can belong to a construct.",
        "zh-CN": "只有量表题可以归属于构念。",
    },
    "xlsform.nested_group": {
        "en": "A group inside a table-list group is not supported.",
        "zh-CN": "不支持在 table-list 分组中嵌套分组。",
    },
    "xlsform.likert_choices": {
        "en": "A likert list must have the values 1 to k (optionally followed by 'na'); "
        "'{list}' does not.",
        "zh-CN": "likert 列表的值必须为 1 到 k(可在最后加上 na);“{list}”不符合。",
    },
}

EXPECTED: dict[str, dict[str, str]] = {
    "range": {"en": "a whole number from {low} to {high}", "zh-CN": "{low} 到 {high} 之间的整数"},
    "number": {"en": "a number", "zh-CN": "一个数字"},
    "option": {"en": "one of {options}", "zh-CN": "以下之一:{options}"},
    "text": {"en": "a text", "zh-CN": "一段文字"},
    "none": {"en": "no value", "zh-CN": "不填值"},
    "list": {"en": "a non-empty list of values", "zh-CN": "非空的值列表"},
    "single": {"en": "a single value", "zh-CN": "单个值"},
}

FIELD_NAMES: dict[str, dict[str, str]] = {
    "title": {"en": "title", "zh-CN": "标题"},
    "introduction": {"en": "introduction", "zh-CN": "引言"},
    "label": {"en": "question text", "zh-CN": "题目文字"},
    "help": {"en": "help text", "zh-CN": "帮助文字"},
    "description": {"en": "description", "zh-CN": "说明"},
    "anchor": {"en": "scale label", "zh-CN": "量表标签"},
    "not_applicable": {"en": "'not applicable' label", "zh-CN": "“不适用”标签"},
    "option": {"en": "option label", "zh-CN": "选项标签"},
    "low_label": {"en": "low-end label", "zh-CN": "低端标签"},
    "high_label": {"en": "high-end label", "zh-CN": "高端标签"},
    "name": {"en": "name", "zh-CN": "名称"},
    "definition": {"en": "definition", "zh-CN": "定义"},
}

WHERE_NAMES: dict[str, dict[str, str]] = {
    "section": {"en": "section {}", "zh-CN": "第 {} 部分"},
    "item": {"en": "item {}", "zh-CN": "题目 {}"},
    "row": {"en": "row {}", "zh-CN": "行 {}"},
    "option": {"en": "option {}", "zh-CN": "选项 {}"},
    "anchor": {"en": "scale label {}", "zh-CN": "量表标签 {}"},
    "construct": {"en": "construct {}", "zh-CN": "构念 {}"},
    "model": {"en": "structural model", "zh-CN": "结构模型"},
    "condition": {"en": "display condition", "zh-CN": "显示条件"},
    "settings": {"en": "settings", "zh-CN": "设置"},
    "languages": {"en": "languages", "zh-CN": "语言"},
    "title": {"en": "title", "zh-CN": "标题"},
    "introduction": {"en": "introduction", "zh-CN": "引言"},
    "sheet": {"en": "sheet '{}'", "zh-CN": "工作表“{}”"},
    "line": {"en": "row {}", "zh-CN": "第 {} 行"},
    "column": {"en": "column '{}'", "zh-CN": "列“{}”"},
    "path": {"en": "at {}", "zh-CN": "位置 {}"},
    "field": {"en": "{}", "zh-CN": "{}"},
}

_SEPARATORS = {"en": (", ", " / "), "zh-CN": ("、", " / ")}


def normalise_locale(locale: str) -> str:
    """Map a UI locale (``zh_CN``, ``zh-Hans``, ``en-GB`` ...) to a catalogue language."""
    return "zh-CN" if locale.replace("_", "-").lower().startswith("zh") else "en"


def _render_param(value: Any, lang: str) -> str:
    if isinstance(value, (list, tuple)):
        return _SEPARATORS[lang][0].join(str(v) for v in value)
    return str(value)


@dataclass(frozen=True)
class Problem:
    """One thing wrong, with a stable message id, a location and message parameters."""

    code: str
    where: Where = ()
    params: Mapping[str, Any] = field(default_factory=dict)

    def message(self, locale: str = "en") -> str:
        lang = normalise_locale(locale)
        template = MESSAGES[self.code][lang]
        params = {key: _render_param(value, lang) for key, value in self.params.items()}
        if self.params.get("field") in FIELD_NAMES:
            params["field"] = FIELD_NAMES[self.params["field"]][lang]
        if self.params.get("expected") in EXPECTED:
            params["expected"] = EXPECTED[self.params["expected"]][lang].format(**params)
        return template.format(**params)

    def location(self, locale: str = "en") -> str:
        lang = normalise_locale(locale)
        parts = []
        for kind, value in self.where:
            names = WHERE_NAMES.get(kind)
            if kind == "field" and value in FIELD_NAMES:
                parts.append(FIELD_NAMES[str(value)][lang])
            elif names is None:
                parts.append(f"{kind} {value}")
            else:
                parts.append(names[lang].format(value))
        return _SEPARATORS[lang][1].join(parts)

    def describe(self, locale: str = "en") -> str:
        """Location and message in one line, e.g. for a CLI or a log."""
        location = self.location(locale)
        return f"{location}: {self.message(locale)}" if location else self.message(locale)

    def located(self, *prefix: tuple[str, str | int]) -> Problem:
        """The same problem placed under ``prefix`` (e.g. a sheet and row)."""
        return Problem(self.code, (*prefix, *self.where), self.params)

    def to_dict(self, locale: str = "en") -> dict[str, Any]:
        """A JSON-friendly form with the message rendered in ``locale``."""
        return {
            "code": self.code,
            "where": [list(part) for part in self.where],
            "params": dict(self.params),
            "location": self.location(locale),
            "message": self.message(locale),
        }
