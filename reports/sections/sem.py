"""The structural model: path diagram, paths with R², and defined (indirect) effects."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from reports import charts
from reports.document import Column, Figure, Paragraph, Section, Table, format_number
from reports.sections.context import ReportContext, finite


def path_figure(ctx: ReportContext, paths: list[dict[str, Any]], note: str) -> Figure:
    """Constructs as boxes, arrows labelled with β (bold when p < .05), R² in the
    endogenous constructs."""
    r2 = ctx.result.get("r2") or {}
    nodes = [c for c in ctx.constructs if any(c in (p["lhs"], p["rhs"]) for p in paths)]
    edges = [
        charts.PathEdge(
            p["rhs"],
            p["lhs"],
            float(p.get("std_all") or 0),
            float(p["pvalue"]) if finite(p.get("pvalue")) else 1.0,
        )
        for p in paths
    ]
    return Figure(
        "path_diagram",
        ctx.t("fig_path"),
        charts.png(
            charts.path_diagram(
                nodes,
                {c: ctx.name(c) for c in nodes},
                edges,
                {c: float(v) for c, v in r2.items() if c in ctx.latent and finite(v)},
            )
        ),
        width_cm=15,
        note=note,
    )


def r2_list(ctx: ReportContext) -> str:
    r2 = ctx.result.get("r2") or {}
    return ctx.join(
        [f"{ctx.name(c)} = {format_number(v, 'coef')}" for c, v in r2.items() if c in ctx.latent]
    )


def structural(ctx: ReportContext) -> Section:
    section = Section("structural", ctx.t("sec_structural"))
    paths = ctx.structural_paths()
    if paths:
        section.blocks.append(path_figure(ctx, paths, ctx.t("note_path_figure")))
        section.blocks.append(
            Table(
                "paths",
                ctx.t("tab_paths"),
                [
                    Column(ctx.t("path")),
                    Column("B", "dec3"),
                    Column("SE", "dec3"),
                    Column("z", "dec2"),
                    Column("p", "p"),
                    Column("β", "coef3"),
                    Column(ctx.t("ci_lower"), "dec3"),
                    Column(ctx.t("ci_upper"), "dec3"),
                ],
                [
                    [
                        f"{ctx.name(p['rhs'])} → {ctx.name(p['lhs'])}",
                        p.get("est"),
                        p.get("se"),
                        p.get("z"),
                        p.get("pvalue"),
                        p.get("std_all"),
                        p.get("ci_lower"),
                        p.get("ci_upper"),
                    ]
                    for p in paths
                ],
                note=ctx.t("note_paths", list=r2_list(ctx)),
            )
        )
    indirect = indirect_rows(ctx)
    if indirect:
        boot = ctx.result.get("bootstrap") or {}
        note = (
            ctx.t("note_indirect_boot", n=ctx.request.bootstrap)
            if boot and ctx.request.bootstrap
            else ctx.t("note_indirect_delta")
        )
        section.blocks.append(
            Table(
                "indirect",
                ctx.t("tab_indirect"),
                [
                    Column(ctx.t("effect")),
                    Column(ctx.t("definition")),
                    Column(ctx.t("estimate"), "dec3"),
                    Column("SE", "dec3"),
                    Column("p", "p"),
                    Column("β", "coef3"),
                    Column(ctx.t("ci_lower"), "dec3"),
                    Column(ctx.t("ci_upper"), "dec3"),
                ],
                [
                    [
                        row["name"],
                        row["definition"],
                        row["est"],
                        row["se"],
                        row["pvalue"],
                        row["std"],
                        *row["ci"],
                    ]
                    for row in indirect
                ],
                note=note,
            )
        )
    elif paths:
        section.blocks.append(Paragraph(ctx.t("no_indirect"), "note"))
    return section


def indirect_rows(ctx: ReportContext) -> list[dict[str, Any]]:
    """The defined (``:=``) effects in words, with the bootstrap interval when there is one."""
    expressions = {d.name: d.expression.text for d in ctx.spec.defined}
    boot = ctx.result.get("bootstrap") or {}
    rows = []
    for row in ctx.rows(":="):
        name = row.get("lhs") or row.get("label")
        interval = boot.get(name) or {}
        if not isinstance(interval, dict):  # a PLS bootstrap's settings, not intervals
            interval = {}
        expression = expressions.get(name, row.get("rhs", ""))
        rows.append(
            {
                "name": effect_name(ctx, name, expression),
                "definition": f"{name} := {expression}",
                "est": row.get("est"),
                "se": row.get("se"),
                "pvalue": row.get("pvalue"),
                "std": row.get("std_all"),
                "bootstrap": bool(interval) or (finite(row.get("se")) and ctx.is_pls),
                "ci": (
                    interval.get("ci_lower", row.get("ci_lower")),
                    interval.get("ci_upper", row.get("ci_upper")),
                ),
            }
        )
    return rows


def effect_name(ctx: ReportContext, name: str, expression: str) -> str:
    """A defined parameter in words: the indirect, direct or total effect its expression
    multiplies and adds up along labelled regression paths (``a*b``: indirect, ``c + a*b``:
    total), else "the defined effect <name>"."""
    fallback = ctx.t("effect_defined", name=name)
    paths = {row.label: (row.rhs, row.lhs) for row in ctx.spec.rows if row.op == "~"}
    chains = []
    for term in expression.split("+"):
        labels = [label.strip() for label in term.split("*")]
        if not all(label in paths for label in labels if label) or "" in labels:
            return fallback
        chain = _chain([paths[label] for label in labels])
        if chain is None:
            return fallback
        chains.append(chain)
    if len({(chain[0], chain[-1]) for chain in chains}) != 1:
        return fallback
    first = chains[0]
    ends = {"src": ctx.name(first[0]), "dst": ctx.name(first[-1])}
    if len(chains) > 1:
        direct = any(len(chain) == 2 for chain in chains)
        return ctx.t("effect_total" if direct else "effect_total_indirect", **ends)
    if len(first) == 2:
        return ctx.t("effect_direct", **ends)
    via = ctx.t("then").join(ctx.name(node) for node in first[1:-1])
    return ctx.t("effect_indirect", via=via, **ends)


def _chain(edges: Sequence[tuple[str, str]]) -> list[str] | None:
    """The path ``[source, ..., target]`` that the (from, to) ``edges`` form one after another,
    in any order, or None when they do not form one unbranched path."""
    targets = {to for _from, to in edges}
    starts = [start for start, _to in edges if start not in targets]
    following = dict(edges)
    if len(starts) != 1 or len(following) != len(edges):
        return None
    chain = [starts[0]]
    while chain[-1] in following and len(chain) <= len(edges):
        chain.append(following[chain[-1]])
    return chain if len(chain) == len(edges) + 1 else None
