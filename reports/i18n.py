# ruff: noqa: E501  (catalog strings stay on one line each, for translators)
"""The report's own strings in English and Chinese (the web app's Babel catalogs are separate)."""

from __future__ import annotations

LANGUAGES = ("en", "zh")

_CATALOG: dict[str, tuple[str, str]] = {
    # renderer words
    "table": ("Table", "表"),
    "figure": ("Figure", "图"),
    "note": ("Note.", "注:"),
    "contents": ("Contents", "目录"),
    "page": ("Page", "第"),
    "back": ("Back to the contents", "返回目录"),
    "report_title": ("Customer satisfaction and loyalty study", "顾客满意度与忠诚度研究"),
    "report_subtitle": ("Research report", "研究报告"),
    "fact_client": ("Client", "委托方"),
    "fact_waves": ("Waves", "调查轮次"),
    "fact_fieldwork": ("Fieldwork", "调查时间"),
    "fact_sample": ("Sample", "样本"),
    "fact_author": ("Prepared by", "撰写"),
    "fact_date": ("Report date", "报告日期"),
    "sample_value": (
        "{n_used:,} of {n_rows:,} respondents analysed",
        "分析 {n_used:,} 名受访者(共 {n_rows:,} 名)",
    ),
    # spreadsheet tabs (with the table number, at most 31 characters)
    "sheet_fieldwork": ("Fieldwork", "调查执行"),
    "sheet_indices": ("Indices", "构念指数"),
    "sheet_items": ("Items", "题项"),
    "sheet_nps": ("NPS", "NPS"),
    "sheet_reliability": ("Reliability", "信度"),
    "sheet_fornell_larcker": ("Fornell-Larcker", "Fornell-Larcker"),
    "sheet_htmt": ("HTMT", "HTMT"),
    "sheet_correlations": ("Correlations", "相关矩阵"),
    "sheet_loadings": ("CFA loadings", "因子载荷"),
    "sheet_fit": ("Model fit", "模型拟合"),
    "sheet_paths": ("Structural paths", "结构路径"),
    "sheet_indirect": ("Indirect effects", "间接效应"),
    "sheet_ipa": ("Importance-performance", "重要性-表现"),
    "sheet_griffin": ("Loyalty types", "忠诚类型"),
    "sheet_mardia": ("Normality (Mardia)", "多元正态性(Mardia)"),
    "sheet_modindices": ("Modification indices", "修正指数"),
    "sheet_harman": ("Common method (Harman)", "共同方法偏差(Harman)"),
    "sheet_outer": ("PLS outer model", "PLS 外部模型"),
    "sheet_effects": ("PLS effects", "PLS 效应"),
    "sheet_r2_q2": ("R² and Q²", "R² 与 Q²"),
    "sheet_plspredict": ("PLSpredict", "PLSpredict"),
    "sheet_pls_indices": ("Satisfaction indices", "满意度指数"),
    "sheet_group": ("By {group}", "按{group}"),
    "sheet_wave": ("By wave", "各轮次"),
    "sheet_invariance_group": ("Invariance by {group}", "按{group}测量不变性"),
    "sheet_invariance_wave": ("Invariance by wave", "各轮次测量不变性"),
    # section titles
    "sec_summary": ("Executive summary", "摘要"),
    "sec_sample": ("Sample and fieldwork", "样本与调查执行"),
    "sec_descriptives": ("Satisfaction and loyalty indices", "满意度与忠诚度指数"),
    "sec_items": ("Item results", "题项结果"),
    "sec_nps": ("Net Promoter Score", "净推荐值(NPS)"),
    "sec_measurement": ("Reliability and validity", "信度与效度"),
    "sec_cfa": ("Confirmatory factor analysis", "验证性因子分析"),
    "sec_structural": ("Structural model", "结构模型"),
    "sec_drivers": ("Drivers of loyalty", "忠诚度驱动因素"),
    "sec_groups": ("Segments and waves", "细分群体与调查轮次"),
    "sec_methods": ("Methods appendix", "方法附录"),
    # summary
    "sum_intro": (
        "{n_used:,} customers' answers were analysed. The main findings:",
        "本次共分析 {n_used:,} 名顾客的回答。主要发现如下:",
    ),
    "sum_path_pos": (
        "{src} raises {dst} {strength} (β = {beta}, {p}).",
        "{src}{strength}提升{dst}(β = {beta},{p})。",
    ),
    "sum_path_neg": (
        "{src} lowers {dst} {strength} (β = {beta}, {p}).",
        "{src}{strength}降低{dst}(β = {beta},{p})。",
    ),
    "sum_path_ns": (
        "{src} has no significant effect on {dst} (β = {beta}, {p}).",
        "{src}对{dst}没有显著影响(β = {beta},{p})。",
    ),
    "strong": ("strongly", "显著且强烈地"),
    "moderate": ("moderately", "显著且中等程度地"),
    "weak": ("weakly", "显著但较弱地"),
    "sum_indirect": (
        "{effect}: {est} ({ci} [{lo}, {hi}]){verdict}.",
        "{effect}:{est}({ci} [{lo}, {hi}]){verdict}。",
    ),
    "effect_indirect": (
        "Indirect effect of {src} on {dst} through {via}",
        "{src}经由{via}对{dst}的间接效应",
    ),
    "effect_direct": ("Direct effect of {src} on {dst}", "{src}对{dst}的直接效应"),
    "effect_total": ("Total effect of {src} on {dst}", "{src}对{dst}的总效应"),
    "effect_total_indirect": (
        "Total indirect effect of {src} on {dst}",
        "{src}对{dst}的总间接效应",
    ),
    "effect_defined": ("Defined effect {name}", "自定义效应 {name}"),
    "then": (" and then ", "、再经由"),
    "definition": ("Definition (lavaan)", "定义(lavaan)"),
    "ci_bootstrap": ("95% bootstrap CI", "95% bootstrap 置信区间"),
    "ci_delta": ("95% CI", "95% 置信区间"),
    "indirect_sig": (", significant", ",显著"),
    "indirect_ns": (", not significant", ",不显著"),
    "sum_r2": (
        "The model explains {pct}% of the variance in {name}.",
        "模型解释了{name} {pct}% 的方差。",
    ),
    "sum_indices": ("Indices (0–100): {list}.", "指数(0–100):{list}。"),
    "sum_topbox": (
        "{pct}% agree with {name} (top-two box); by facet: {list}.",
        "{pct}% 的受访者认同{name}(前两项比例);分项:{list}。",
    ),
    "sum_topbox_single": (
        "{pct}% agree with {name} (top-two box).",
        "{pct}% 的受访者认同{name}(前两项比例)。",
    ),
    "sum_nps": (
        "Net Promoter Score: {nps} ({promoters}% promoters, {detractors}% detractors; 95% CI [{lo}, {hi}]).",
        "净推荐值(NPS):{nps}(推荐者 {promoters}%,贬损者 {detractors}%;95% 置信区间 [{lo}, {hi}])。",
    ),
    "sum_waves": ("From {first} to {last}: {list}.", "从{first}到{last}:{list}。"),
    "sum_waves_none": (
        "No index changed significantly from {first} to {last}.",
        "从{first}到{last},各项指数均无显著变化。",
    ),
    "sum_groups": ("By {group}: {list}.", "按{group}:{list}。"),
    "sum_groups_none": (
        "The indices do not differ significantly by {group}.",
        "各项指数在{group}之间无显著差异。",
    ),
    "diff_rose": ("{name} rose from {first} to {last} ({p})", "{name}由 {first} 升至 {last}({p})"),
    "diff_fell": ("{name} fell from {first} to {last} ({p})", "{name}由 {first} 降至 {last}({p})"),
    "diff_range": (
        "{name} is highest for {high} ({high_value}) and lowest for {low} ({low_value}; {p})",
        "{name}在{high}最高({high_value}),在{low}最低({low_value};{p})",
    ),
    "sum_fit": (
        "Model fit: {verdict} (CFI = {cfi}, RMSEA = {rmsea}, SRMR = {srmr}).",
        "模型拟合:{verdict}(CFI = {cfi},RMSEA = {rmsea},SRMR = {srmr})。",
    ),
    "sum_reliability_ok": (
        "All scales are reliable (Cronbach's α ≥ .70, CR ≥ .70).",
        "所有量表均具有良好的信度(Cronbach's α ≥ .70,CR ≥ .70)。",
    ),
    "sum_reliability_weak": (
        "Scales below the reliability threshold (α or CR < .70): {list}.",
        "信度未达标的量表(α 或 CR < .70):{list}。",
    ),
    "sum_trap": (
        "Satisfaction trap: loyalty rises ever less as satisfaction rises (quadratic term {b}, {p}).",
        "满意度陷阱:满意度越高,忠诚度的增幅越小(二次项 {b},{p})。",
    ),
    # verdicts
    "good": ("good", "良好"),
    "acceptable": ("acceptable", "可接受"),
    "poor": ("poor", "较差"),
    "ok": ("meets criterion", "达标"),
    "not_ok": ("below criterion", "未达标"),
    "redundant": ("redundant items (> .95)", "题项冗余(> .95)"),
    "weak_loading": ("weak", "偏弱"),
    # sample
    "sample_text": (
        "The data file holds {n_rows:,} respondents; {n_used:,} were analysed ({missing}).",
        "数据文件共有 {n_rows:,} 名受访者,其中 {n_used:,} 名进入分析({missing})。",
    ),
    "missing_listwise": (
        "listwise deletion of incomplete answers",
        "剔除有缺失回答的个案(列表删除)",
    ),
    "missing_fiml": (
        "full-information maximum likelihood for missing answers",
        "缺失回答采用全信息最大似然估计(FIML)",
    ),
    "more_drops": (
        "{n} more rows with other combinations of missing answers",
        "另有 {n} 行因其他缺失组合被剔除",
    ),
    "tab_fieldwork": ("Fieldwork", "调查执行情况"),
    "invitations": ("Personal invitations sent", "发出的个人邀请"),
    "invited_completes": ("Completed through personal invitations", "通过个人邀请完成"),
    "response_rate": (
        "Response rate of the invitations (%)",
        "邀请回复率(%)",
    ),
    "public_completes": ("Completed through the public link", "通过公开链接完成"),
    "phone_completes": ("Completed by telephone", "电话访问完成"),
    "responses": ("Responses started", "开始作答"),
    "completes": ("Complete responses in all", "完成问卷合计"),
    "excluded": ("Excluded: {flag}", "剔除:{flag}"),
    "analysed": ("Analysed", "进入分析"),
    "measure": ("Measure", "指标"),
    "value": ("Value", "数值"),
    # tables
    "tab_indices": ("Construct indices", "构念指数"),
    "tab_items": ("Item descriptives", "题项描述统计"),
    "tab_nps": ("Net Promoter Score", "净推荐值"),
    "tab_reliability": ("Reliability and convergent validity", "信度与收敛效度"),
    "tab_fl": ("Fornell–Larcker criterion", "Fornell–Larcker 判别效度检验"),
    "tab_htmt": ("Heterotrait–monotrait ratios (HTMT)", "异质-单质比率(HTMT)"),
    "tab_corr": ("Correlations between construct scores", "构念得分相关矩阵"),
    "tab_loadings": ("CFA loadings", "验证性因子分析载荷"),
    "tab_fit": ("Model fit", "模型拟合指标"),
    "tab_paths": ("Structural paths", "结构路径"),
    "tab_indirect": ("Indirect and total effects", "间接效应与总效应"),
    "tab_ipa": (
        "Importance–performance of the drivers of {name}",
        "{name}驱动因素的重要性-表现分析",
    ),
    "tab_griffin": ("Griffin loyalty types", "Griffin 忠诚类型"),
    "tab_groups": ("Construct indices by {group}", "按{group}划分的构念指数"),
    "tab_waves": ("Construct indices by wave", "各轮次构念指数"),
    "tab_invariance_waves": ("Measurement invariance across waves", "各轮次间的测量不变性"),
    "tab_invariance_groups": ("Measurement invariance across {group}", "按{group}分组的测量不变性"),
    "fig_distributions": ("Answer distributions", "题项回答分布"),
    "fig_nps": ("Promoters, passives and detractors", "推荐者、被动者与贬损者"),
    "fig_path": ("Structural model with standardized coefficients", "结构模型(标准化系数)"),
    "fig_ipa": ("Importance–performance map", "重要性-表现矩阵"),
    "fig_griffin": ("Griffin loyalty quadrants", "Griffin 忠诚四象限"),
    "fig_waves": ("Indices by wave", "各轮次指数趋势"),
    # columns
    "construct": ("Construct", "构念"),
    "item": ("Item", "题项"),
    "code": ("Code", "代码"),
    "text": ("Wording", "题项内容"),
    "n": ("n", "n"),
    "mean": ("M", "M"),
    "sd": ("SD", "SD"),
    "skew": ("Skew", "偏度"),
    "kurtosis": ("Kurtosis", "峰度"),
    "index": ("Index", "指数"),
    "top2": ("Top-2 %", "前两项 %"),
    "alpha": ("α", "α"),
    "alpha_ci": ("α 95% CI", "α 95% 置信区间"),
    "omega": ("ω", "ω"),
    "cr": ("CR", "CR"),
    "ave": ("AVE", "AVE"),
    "verdict": ("Verdict", "评价"),
    "pair": ("Pair", "构念对"),
    "htmt": ("HTMT", "HTMT"),
    "index_fit": ("Index", "指标"),
    "threshold": ("Threshold", "标准"),
    "measurement_model": ("Measurement model", "测量模型"),
    "structural_model": ("Structural model", "结构模型"),
    "path": ("Path", "路径"),
    "effect": ("Effect", "效应"),
    "estimate": ("Estimate", "估计值"),
    "ci_lower": ("95% CI lower", "95% CI 下限"),
    "ci_upper": ("95% CI upper", "95% CI 上限"),
    "importance": ("Importance (total β)", "重要性(总效应 β)"),
    "performance": ("Performance (0–100)", "表现(0–100)"),
    "quadrant": ("Quadrant", "象限"),
    "segment": ("Type", "类型"),
    "attitudinal": ("Attitudinal", "态度忠诚"),
    "behavioural": ("Behavioural", "行为忠诚"),
    "pct": ("%", "%"),
    "high": ("high", "高"),
    "low": ("low", "低"),
    "promoters": ("Promoters (9–10)", "推荐者(9–10)"),
    "passives": ("Passives (7–8)", "被动者(7–8)"),
    "detractors": ("Detractors (0–6)", "贬损者(0–6)"),
    "nps": ("NPS", "NPS"),
    "wave": ("Wave", "轮次"),
    "test": ("Test", "检验"),
    "change": ("Change", "变化"),
    "level": ("Level", "层级"),
    "delta_chisq_p": ("Δχ² p", "Δχ² 的 p 值"),
    "holds": ("Holds", "是否成立"),
    "yes": ("Yes", "是"),
    "no": ("No", "否"),
    # measurement invariance: levels, what is compared, verdicts and why it was not tested
    "configural": ("Configural", "形态不变"),
    "metric": ("Metric", "度量不变"),
    "scalar": ("Scalar", "尺度不变"),
    "between_waves": ("waves", "各轮次"),
    "between_groups": ("the groups of {group}", "{group}各组"),
    "unit_wave": ("wave", "轮"),
    "unit_group": ("group", "组"),
    "name_wave": ("wave {level}", "轮次 {level}"),
    "name_group": ("{group} = {level}", "{group} = {level}"),
    "inv_scalar": (
        "Scalar invariance holds: differences in the indices between {between} can be read as real differences.",
        "尺度不变性成立:{between}之间的指数差异可以解读为真实差异。",
    ),
    "inv_metric": (
        "Metric but not scalar invariance: relations between constructs can be compared between {between}, but part of a difference in an index may come from how the items were answered rather than from the construct.",
        "度量不变成立但尺度不变不成立:构念之间的关系可以在{between}之间比较,但指数差异中可能有一部分来自题项的作答方式,而非构念本身。",
    ),
    "inv_configural": (
        "Only configural invariance: the items relate to the constructs differently between {between}, so compare the indices with great care.",
        "仅形态不变成立:{between}之间题项与构念的关系不同,比较指数时须非常谨慎。",
    ),
    "inv_none": (
        "Not even configural invariance: the measurement model fits poorly (CFI below .90 or RMSEA above .08), so compare the indices between {between} with great care.",
        "连形态不变性也不成立:测量模型拟合较差(CFI 低于 .90 或 RMSEA 高于 .08),比较{between}之间的指数时须非常谨慎。",
    ),
    "inv_too_few": (
        "Measurement invariance between {between} was not tested: {name} has {answers} complete answers to the construct items, and the test needs at least {needed} per {unit}.",
        "未检验{between}之间的测量不变性:{name} 只有 {answers} 份完整回答(构念题项全部作答),检验要求每{unit}至少 {needed} 份。",
    ),
    "inv_not_estimable": (
        "Measurement invariance between {between} could not be estimated from these data: {detail}",
        "无法用这些数据估计{between}之间的测量不变性:{detail}",
    ),
    # notes
    "note_indices": (
        "Index = (M − scale minimum) / (scale range) × 100. Top-2 % = share answering the two highest scale points.",
        "指数 = (M − 量表最小值) / 量表全距 × 100。前两项 % = 选择量表最高两个选项的比例。",
    ),
    "note_reverse": (
        "(R) reverse-worded item, reported after recoding.",
        "(R) 反向题,已反向计分后报告。",
    ),
    "note_items": (
        "Item answers on a {lo}–{hi} scale; reverse-worded items (R) are shown after recoding.",
        "题项采用 {lo}–{hi} 分量表;反向题(R)已反向计分。",
    ),
    "note_nps": (
        "NPS = % promoters − % detractors; 95% Wald confidence interval (Rocks, 2016).",
        "NPS = 推荐者 % − 贬损者 %;95% Wald 置信区间(Rocks, 2016)。",
    ),
    "note_reliability": (
        "Criteria: α and CR ≥ .70 (CR > .95 suggests redundant items), AVE ≥ .50 (Nunnally, 1978; Fornell & Larcker, 1981). α CI after Feldt.",
        "标准:α 与 CR ≥ .70(CR > .95 提示题项冗余),AVE ≥ .50(Nunnally, 1978;Fornell & Larcker, 1981)。α 置信区间采用 Feldt 方法。",
    ),
    "note_fl": (
        "Diagonal: √AVE; below the diagonal: latent correlations. Discriminant validity holds when each √AVE exceeds the construct's correlations (Fornell & Larcker, 1981).",
        "对角线为 √AVE,下三角为潜变量相关。若每个 √AVE 均大于该构念与其他构念的相关,则判别效度成立(Fornell & Larcker, 1981)。",
    ),
    "note_fl_violations": ("Violated for: {list}.", "未满足的构念对:{list}。"),
    "note_htmt": (
        "HTMT < .85 supports discriminant validity (< .90 for conceptually similar constructs; Henseler et al., 2015).",
        "HTMT < .85 支持判别效度(概念相近的构念 < .90;Henseler et al., 2015)。",
    ),
    "note_corr": (
        "Pearson correlations of construct scores (item means). *\u00a0p\u00a0<\u00a0.05. **\u00a0p\u00a0<\u00a0.01. ***\u00a0p\u00a0<\u00a0.001.",
        "构念得分(题项均值)的 Pearson 相关。*\u00a0p\u00a0<\u00a0.05,**\u00a0p\u00a0<\u00a0.01,***\u00a0p\u00a0<\u00a0.001。",
    ),
    "note_loadings": (
        "B unstandardized, β standardized loading; the first item of each construct is the marker (fixed to 1). β ≥ .70 good, ≥ .50 acceptable.",
        "B 为非标准化载荷,β 为标准化载荷;每个构念的第一个题项为标定题项(固定为 1)。β ≥ .70 为良好,≥ .50 为可接受。",
    ),
    "note_fit": (
        "Criteria: CFI/TLI ≥ .95 good, ≥ .90 acceptable; RMSEA ≤ .06 good, ≤ .08 acceptable; SRMR ≤ .08 (Hu & Bentler, 1999).",
        "标准:CFI/TLI ≥ .95 为良好,≥ .90 为可接受;RMSEA ≤ .06 为良好,≤ .08 为可接受;SRMR ≤ .08(Hu & Bentler, 1999)。",
    ),
    "note_paths": (
        "B unstandardized, β standardized coefficient. R²: {list}. *\u00a0p\u00a0<\u00a0.05. **\u00a0p\u00a0<\u00a0.01. ***\u00a0p\u00a0<\u00a0.001.",
        "B 为非标准化系数,β 为标准化系数。R²:{list}。*\u00a0p\u00a0<\u00a0.05,**\u00a0p\u00a0<\u00a0.01,***\u00a0p\u00a0<\u00a0.001。",
    ),
    "note_indirect_boot": (
        "Defined parameters of the model; 95% percentile bootstrap CIs from {n} resamples.",
        "模型中定义的参数;95% 百分位 bootstrap 置信区间(重抽样 {n} 次)。",
    ),
    "note_indirect_delta": (
        "Defined parameters of the model; 95% CIs by the delta method (no bootstrap requested).",
        "模型中定义的参数;95% 置信区间采用 delta 方法(未进行 bootstrap)。",
    ),
    "no_indirect": (
        "The model defines no indirect effects (add e.g. `ind := a*b` to the model syntax).",
        "模型未定义间接效应(可在模型语法中加入如 `ind := a*b`)。",
    ),
    "note_path_figure": (
        "Standardized coefficients; R² inside the endogenous constructs. *\u00a0p\u00a0<\u00a0.05. **\u00a0p\u00a0<\u00a0.01. ***\u00a0p\u00a0<\u00a0.001; dashed: not significant.",
        "标准化系数;内生构念内标注 R²。*\u00a0p\u00a0<\u00a0.05,**\u00a0p\u00a0<\u00a0.01,***\u00a0p\u00a0<\u00a0.001;虚线表示不显著。",
    ),
    "note_ipa": (
        "Importance: standardized total effect on {name}; performance: construct index. Quadrants split at the means (Martilla & James, 1977).",
        "重要性:对{name}的标准化总效应;表现:构念指数。象限以均值划分(Martilla & James, 1977)。",
    ),
    "note_griffin": (
        "High = score above the scale midpoint (Griffin, 2002).",
        "高 = 得分高于量表中点(Griffin, 2002)。",
    ),
    "note_groups": (
        "Construct indices (0–100) by group; Welch's F test of the mean differences.",
        "按群体划分的构念指数(0–100);均值差异采用 Welch F 检验。",
    ),
    "note_waves": (
        "Construct indices (0–100) by wave; change between the last two waves tested with Welch's t.",
        "各轮次构念指数(0–100);最近两轮之间的变化采用 Welch t 检验。",
    ),
    "note_invariance": (
        "Multi-group confirmatory factor analysis by maximum likelihood on the complete answers to the construct items (listwise): {sizes}. Configural: the same factor structure; metric: equal loadings; scalar: equal loadings and intercepts. The configural model holds with CFI ≥ .90 and RMSEA ≤ .08; each stricter level holds when CFI falls by no more than .01 from the level before (ΔCFI ≥ −.01; Cheung & Rensvold, 2002). Δχ²: chi-square difference test against the level before.",
        "多组验证性因子分析,最大似然估计,仅使用构念题项全部作答的回答(列表删除):{sizes}。形态不变:因子结构相同;度量不变:载荷相等;尺度不变:载荷与截距均相等。形态模型在 CFI ≥ .90 且 RMSEA ≤ .08 时成立;更严格的层级在 CFI 较上一层级下降不超过 .01 时成立(ΔCFI ≥ −.01;Cheung & Rensvold, 2002)。Δχ²:与上一层级比较的卡方差异检验。",
    ),
    "trap_text": (
        "Satisfaction-trap test (quadratic regression of {loy} on {sat}, n = {n}): quadratic term {b} ({p}); {verdict}",
        "满意度陷阱检验({loy}对{sat}的二次回归,n = {n}):二次项 {b}({p});{verdict}",
    ),
    "trap_yes": ("loyalty levels off at high satisfaction.", "高满意度下忠诚度趋于平缓。"),
    "trap_no": ("no sign of diminishing returns.", "未发现边际效应递减。"),
    "griffin_missing": (
        "Griffin quadrants need attitudinal (ATL) and behavioural (BHL) loyalty constructs; this model has none.",
        "Griffin 忠诚四象限需要态度忠诚(ATL)与行为忠诚(BHL)构念,本模型未包含。",
    ),
    # IPA quadrants and Griffin segments (the analysis library's English keys)
    "concentrate here": ("concentrate here", "重点改进"),
    "keep up the good work": ("keep up the good work", "继续保持"),
    "low priority": ("low priority", "次要改进"),
    "possible overkill": ("possible overkill", "可能过度投入"),
    "absolute loyalty": ("absolute loyalty", "绝对忠诚"),
    "latent loyalty": ("latent loyalty", "潜在忠诚"),
    "inertia loyalty": ("inertia loyalty", "惰性忠诚"),
    "no loyalty": ("no loyalty", "不忠诚"),
    # methods
    "methods_model": ("Model syntax (lavaan)", "模型语法(lavaan)"),
    "methods_estimation": (
        "Missing answers: {missing}. Scale {lo}–{hi}; reverse-worded items recoded as (min + max − x): {reverse}.",
        "缺失回答:{missing}。量表 {lo}–{hi};反向题按(最小值 + 最大值 − x)重新计分:{reverse}。",
    ),
    "methods_bootstrap": (
        "Indirect effects: {n} bootstrap resamples, seed {seed}, percentile intervals.",
        "间接效应:bootstrap 重抽样 {n} 次,随机种子 {seed},百分位置信区间。",
    ),
    "methods_no_bootstrap": ("No bootstrap resampling was requested.", "未进行 bootstrap 重抽样。"),
    "methods_invariance": (
        "Measurement invariance across {list}: the measurement model fitted in all groups at once by maximum likelihood on complete answers (listwise), as configural, metric (equal loadings) and scalar (equal loadings and intercepts) models; a level holds when CFI falls by no more than .01 from the level before (Cheung & Rensvold, 2002), with the chi-square difference test and ΔRMSEA beside it. Tested when every group has at least max(50, 2 × items) = {needed} complete answers.",
        "测量不变性({list}):以最大似然估计、仅用完整回答(列表删除)在所有组中同时拟合测量模型,依次检验形态不变、度量不变(载荷相等)与尺度不变(载荷与截距相等);当 CFI 较上一层级下降不超过 .01 时该层级成立(Cheung & Rensvold, 2002),同时报告卡方差异检验与 ΔRMSEA。每组完整回答至少为 max(50, 2 × 题项数) = {needed} 份时才进行检验。",
    ),
    "methods_software": ("Software: {list}.", "软件:{list}。"),
    "methods_repro": (
        "The reproducibility bundle (data, codebook, model syntax and a Python script) re-creates every number in this report.",
        "可复现数据包(数据、编码手册、模型语法与 Python 脚本)可重现本报告中的所有数值。",
    ),
    "none": ("none", "无"),
    # estimators, robust fit, normality, modification indices, HTMT2, Harman (issue 14)
    "estimation_used": (
        "Estimator: {estimator} ({estimator_text}); standard errors: {se}; test statistic: {test}.",
        "估计方法:{estimator}({estimator_text});标准误:{se};检验统计量:{test}。",
    ),
    "estimator_ml": ("maximum likelihood, as lavaan's default", "最大似然估计,与 lavaan 默认一致"),
    "estimator_mlr": ("robust maximum likelihood", "稳健最大似然估计"),
    "estimator_mlm": (
        "maximum likelihood with Satorra–Bentler corrections",
        "带 Satorra–Bentler 校正的最大似然估计",
    ),
    "estimator_wlsmv": (
        "diagonally weighted least squares on polychoric correlations, items as ordered categories",
        "基于多分格相关的对角加权最小二乘,题项作为有序类别",
    ),
    "se_standard": ("conventional (inverse information)", "常规标准误(信息矩阵之逆)"),
    "se_huber_white": ("robust Huber–White (sandwich)", "稳健 Huber–White 标准误(三明治估计)"),
    "se_robust_sem": ("robust (sandwich)", "稳健标准误(三明治估计)"),
    "test_standard": ("the likelihood-ratio χ²", "似然比 χ²"),
    "test_yuan_bentler": ("the Yuan–Bentler scaled χ²", "Yuan–Bentler 校正 χ²"),
    "test_satorra_bentler": ("the Satorra–Bentler scaled χ²", "Satorra–Bentler 校正 χ²"),
    "test_scaled_shifted": (
        "the mean- and variance-adjusted (scaled-shifted) χ²",
        "均值与方差校正(scaled-shifted)χ²",
    ),
    "scaling_factor": ("χ² scaling factor", "χ² 校正因子"),
    "note_fit_robust": (
        "With a robust estimator the scaled χ² replaces the normal-theory χ² as the test of fit, and the robust CFI, TLI and RMSEA (Brosseau-Liard & Savalei, 2014; Savalei, 2018) are the ones to judge; the uncorrected values are shown beside them as lavaan reports them.",
        "使用稳健估计时,以校正后的 χ² 作为拟合检验,并以稳健 CFI、TLI 与 RMSEA(Brosseau-Liard & Savalei, 2014;Savalei, 2018)作为判断依据;未校正的数值按 lavaan 的报告方式并列显示。",
    ),
    "sum_fit_robust": (
        "Model fit (robust): {verdict} (CFI = {cfi}, RMSEA = {rmsea}, SRMR = {srmr}).",
        "模型拟合(稳健):{verdict}(CFI = {cfi},RMSEA = {rmsea},SRMR = {srmr})。",
    ),
    "tab_mardia": ("Multivariate normality of the items (Mardia)", "题项的多元正态性(Mardia)"),
    "mardia_skew": ("Multivariate skewness b1,p", "多元偏度 b1,p"),
    "mardia_kurtosis": ("Multivariate kurtosis b2,p", "多元峰度 b2,p"),
    "coefficient": ("Coefficient", "系数"),
    "statistic": ("Statistic", "统计量"),
    "note_mardia": (
        "Mardia (1970), as psych::mardia, on the {n:,} complete answers; under multivariate normality b2,p is {expected}.",
        "Mardia(1970)检验,与 psych::mardia 一致,基于 {n:,} 份完整回答;多元正态时 b2,p 应为 {expected}。",
    ),
    "mardia_normal": (
        "Neither test rejects multivariate normality: maximum likelihood is appropriate.",
        "两项检验均未拒绝多元正态假设:最大似然估计适用。",
    ),
    "mardia_nonnormal": (
        "The answers are not multivariate normal: robust standard errors and a scaled χ² (MLR), or WLSMV for ordered items, give trustworthy tests.",
        "回答不服从多元正态分布:稳健标准误与校正 χ²(MLR),或针对有序题项的 WLSMV,才能给出可信的检验。",
    ),
    "tab_modindices": ("Largest modification indices", "最大的修正指数"),
    "parameter": ("Parameter", "参数"),
    "note_modindices": (
        "The {shown} largest of {total} modification indices of at least 3.84 (χ², 1 df, p < .05), as lavaan's modindices(); EPC: expected change of the parameter if freed; SEPC: standardized.",
        "列出 {total} 个不小于 3.84(χ²,1 个自由度,p < .05)的修正指数中最大的 {shown} 个,与 lavaan 的 modindices() 一致;EPC:释放该参数后的预期变化;SEPC:其标准化值。",
    ),
    "modindices_caution": (
        "Free a parameter only when theory justifies it: respecifying a model because of its modification indices capitalises on chance, and the modified model must be confirmed on new data (MacCallum et al., 1992).",
        "只有在理论支持时才释放参数:依据修正指数修改模型会利用样本的偶然性,修改后的模型须在新数据上重新验证(MacCallum et al., 1992)。",
    ),
    "no_modindices": (
        "No modification index reaches 3.84: no fixed parameter would improve the fit significantly.",
        "没有修正指数达到 3.84:释放任何固定参数都不会显著改善拟合。",
    ),
    "tab_htmt2": (
        "Heterotrait–monotrait ratios: HTMT below, HTMT2 above the diagonal",
        "异质-单质比率:对角线下为 HTMT,对角线上为 HTMT2",
    ),
    "note_htmt2": (
        "HTMT (Henseler et al., 2015) below the diagonal, HTMT2 (geometric means; Roemer, Schuberth & Henseler, 2021) above it. Values < .85 support discriminant validity (< .90 for conceptually similar constructs).",
        "对角线下为 HTMT(Henseler et al., 2015),对角线上为 HTMT2(几何平均;Roemer, Schuberth & Henseler, 2021)。小于 .85 支持判别效度(概念相近的构念小于 .90)。",
    ),
    "note_htmt_exceeds": ("At or above .85: {list}.", "达到或超过 .85 的构念对:{list}。"),
    "tab_harman": (
        "Common-method variance: Harman's single-factor test",
        "共同方法偏差:Harman 单因子检验",
    ),
    "model": ("Model", "模型"),
    "harman_single": ("All items on one factor", "全部题项归为单一因子"),
    "harman_difference": (
        "χ² difference of the single factor against the measurement model: {chisq} ({df} df), {p}.",
        "单因子模型与测量模型的 χ² 差异:{chisq}(自由度 {df}),{p}。",
    ),
    "harman_not_dominates": (
        "The first unrotated factor carries {share}% of the items' variance (below 50%).",
        "第一个未旋转因子解释题项方差的 {share}%(低于 50%)。",
    ),
    "harman_dominates": (
        "The first unrotated factor carries {share}% of the items' variance: more than half, a sign of common-method variance.",
        "第一个未旋转因子解释题项方差的 {share}%:超过一半,提示存在共同方法偏差。",
    ),
    "harman_weakness": (
        "The test is weak: it detects only method variance large enough to swamp the constructs, so passing it does not show that common-method bias is absent (Podsakoff et al., 2003); procedural remedies or a marker variable are the stronger evidence.",
        "该检验效力较弱:只能发现大到足以掩盖构念的方法变异,因此通过检验并不能说明不存在共同方法偏差(Podsakoff et al., 2003);程序控制或标记变量才是更有力的证据。",
    ),
    "alpha_ordinal": ("Ordinal α", "有序 α"),
    "omega_categorical": ("Categorical ω", "类别 ω"),
    "missing_codes_recoded": (
        "Answers with missing-value codes treated as missing: {list}.",
        "按缺失值代码视为缺失的回答:{list}。",
    ),
    # methods appendix: choosing the estimator and the method
    "methods_missing_codes": (
        "Missing-value codes ({codes}, e.g. \u201cdon't know\u201d) were turned into missing answers before the analysis.",
        "缺失值代码({codes},如“不知道”)在分析前被视为缺失回答。",
    ),
    "methods_choice_title": ("Choosing the estimator and the method", "估计方法与建模方法的选择"),
    "methods_estimators": (
        "Maximum likelihood (ML) assumes multivariate normal answers; rating scales with a ceiling rarely are (see Mardia's test in the item results), which leaves the estimates sound but the standard errors too small and the χ² too large. Robust maximum likelihood (MLR) keeps the ML estimates and corrects the standard errors (Huber–White) and the χ² (Yuan–Bentler), with missing answers handled by full-information ML when chosen; it suits items with five or more points treated as continuous. Items with few points (e.g. 5-point Likert items with skewed answers) are better treated as ordered categories: WLSMV estimates the model from polychoric correlations and thresholds, with robust standard errors and a mean- and variance-adjusted χ² (Rhemtulla, Brosseau-Liard & Savalei, 2012).",
        "最大似然估计(ML)假设回答服从多元正态分布;存在天花板效应的评分量表很少满足这一点(见题项结果中的 Mardia 检验),此时估计值仍然可靠,但标准误偏小、χ² 偏大。稳健最大似然估计(MLR)保留 ML 估计值,并校正标准误(Huber–White)与 χ²(Yuan–Bentler),选用时可用全信息最大似然处理缺失回答;适用于五点及以上、按连续变量处理的题项。点数较少的题项(如回答偏态的五点李克特题)更适合作为有序类别处理:WLSMV 基于多分格相关与阈值估计模型,给出稳健标准误与均值方差校正的 χ²(Rhemtulla, Brosseau-Liard & Savalei, 2012)。",
    ),
    "methods_cbsem_pls": (
        "Covariance-based SEM (CB-SEM, as lavaan) models each construct as a common factor, the variance its items share, and tests how well the whole model reproduces the observed covariances: the choice for confirming a theory. PLS path modelling (PLS-SEM, as SmartPLS) builds each construct as a weighted composite of its items and maximises the variance explained in the outcomes: the choice for prediction, for formative (composite) constructs and for the ACSI-style satisfaction indices, which are defined on PLS weights (Fornell et al., 1996). PLS estimates of common-factor models are biased (loadings too high, paths too low) unless consistent PLS (PLSc) is used; PLS has no global test of fit (Hair et al., 2022; Sarstedt et al., 2016).",
        "基于协方差的结构方程模型(CB-SEM,如 lavaan)把每个构念视为共同因子,即题项共享的方差,并检验整个模型对观测协方差的再现程度:适用于验证理论。偏最小二乘路径模型(PLS-SEM,如 SmartPLS)把每个构念构造为题项的加权组合,并最大化结果变量的被解释方差:适用于预测、形成性(组合)构念以及基于 PLS 权重定义的 ACSI 式满意度指数(Fornell et al., 1996)。除非使用一致性 PLS(PLSc),PLS 对共同因子模型的估计存在偏差(载荷偏高、路径偏低);PLS 没有整体拟合检验(Hair et al., 2022;Sarstedt et al., 2016)。",
    ),
    "methods_pls": (
        "Estimator: PLS path modelling, {scheme} inner weighting, {scaled}, {consistent}; converged in {iterations} iterations (tolerance {tolerance}).",
        "估计方法:PLS 路径模型,{scheme}内部加权,{scaled},{consistent};迭代 {iterations} 次收敛(容差 {tolerance})。",
    ),
    "scheme_path": ("path", "路径"),
    "scheme_centroid": ("centroid", "质心"),
    "scheme_factorial": ("factorial", "因子"),
    "pls_scaled": ("standardized items", "题项标准化"),
    "pls_unscaled": ("centred, unstandardized items", "题项仅中心化、未标准化"),
    "pls_consistent": (
        "consistent PLS (PLSc) for the reflective constructs",
        "反映型构念采用一致性 PLS(PLSc)",
    ),
    "pls_not_consistent": ("without the PLSc correction", "未进行 PLSc 校正"),
    "methods_pls_bootstrap": (
        "Bootstrap: {n} resamples ({n_ok} estimated), seed {seed}; standard errors, t values and percentile intervals of the weights, loadings, paths and effects.",
        "Bootstrap:重抽样 {n} 次(成功估计 {n_ok} 次),随机种子 {seed};给出权重、载荷、路径与效应的标准误、t 值与百分位置信区间。",
    ),
    "methods_pls_no_bootstrap": (
        "No bootstrap was requested: the paths have no standard errors or intervals.",
        "未进行 bootstrap:路径系数没有标准误与置信区间。",
    ),
    # PLS-SEM (issue 15)
    "sec_measurement_pls": ("Measurement model (PLS)", "测量模型(PLS)"),
    "sec_pls_indices": ("Satisfaction indices (ACSI method)", "满意度指数(ACSI 方法)"),
    "tab_outer": ("Outer loadings and weights", "外部载荷与权重"),
    "mode": ("Mode", "模式"),
    "loading": ("Loading", "载荷"),
    "weight": ("Weight", "权重"),
    "note_outer": (
        "Mode A (reflective) blocks are judged by their loadings (≥ .708), mode B (composite) blocks by their weights and VIF (< 3; Hair et al., 2022).",
        "模式 A(反映型)以载荷判断(≥ .708),模式 B(组合型)以权重与 VIF 判断(< 3;Hair et al., 2022)。",
    ),
    "note_outer_boot": (
        "Mode A (reflective) blocks are judged by their loadings (≥ .708), mode B (composite) blocks by their weights and VIF (< 3; Hair et al., 2022). The 95% percentile bootstrap interval is that of the loading (mode A) or the weight (mode B).",
        "模式 A(反映型)以载荷判断(≥ .708),模式 B(组合型)以权重与 VIF 判断(< 3;Hair et al., 2022)。95% 百分位 bootstrap 置信区间对应载荷(模式 A)或权重(模式 B)。",
    ),
    "note_reliability_pls": (
        "Criteria: α, ρ_A and ρ_C ≥ .70 (ρ_C > .95 suggests redundant items), AVE ≥ .50 (Hair et al., 2022; Dijkstra & Henseler, 2015).",
        "标准:α、ρ_A 与 ρ_C ≥ .70(ρ_C > .95 提示题项冗余),AVE ≥ .50(Hair et al., 2022;Dijkstra & Henseler, 2015)。",
    ),
    "note_path_figure_pls": (
        "PLS path coefficients (β); R² inside the endogenous constructs. *\u00a0p\u00a0<\u00a0.05. **\u00a0p\u00a0<\u00a0.01. ***\u00a0p\u00a0<\u00a0.001 (bootstrap); dashed: not significant.",
        "PLS 路径系数(β);内生构念内标注 R²。*\u00a0p\u00a0<\u00a0.05,**\u00a0p\u00a0<\u00a0.01,***\u00a0p\u00a0<\u00a0.001(bootstrap);虚线表示不显著。",
    ),
    "tab_paths_pls": (
        "Structural paths (PLS) with bootstrap intervals",
        "结构路径(PLS)及 bootstrap 置信区间",
    ),
    "note_paths_pls_boot": (
        "β: path coefficient; SE, t, p and the 95% percentile interval from the bootstrap.",
        "β:路径系数;SE、t、p 与 95% 百分位置信区间来自 bootstrap。",
    ),
    "note_paths_pls_noboot": (
        "β: path coefficient; without a bootstrap there are no standard errors or intervals.",
        "β:路径系数;未进行 bootstrap,故无标准误与置信区间。",
    ),
    "note_f2": (
        "f²: .02 small, .15 medium, .35 large effect (Cohen, 1988).",
        "f²:.02 为小效应,.15 为中等效应,.35 为大效应(Cohen, 1988)。",
    ),
    "tab_effects": ("Indirect and total effects (PLS)", "间接效应与总效应(PLS)"),
    "direct": ("Direct", "直接"),
    "indirect": ("Indirect", "间接"),
    "total": ("Total", "总效应"),
    "note_effects": (
        "Effects through the constructs in between; the 95% percentile bootstrap interval is that of the indirect effect.",
        "经由中介构念传递的效应;95% 百分位 bootstrap 置信区间对应间接效应。",
    ),
    "tab_r2_q2": ("Explained variance and predictive relevance", "解释方差与预测相关性"),
    "r2_adj": ("Adjusted R²", "调整 R²"),
    "note_r2_q2": (
        "R²: .75 substantial, .50 moderate, .25 weak; Q² by blindfolding (omission distance {distance}) above 0 shows predictive relevance (Hair et al., 2022).",
        "R²:.75 为较强,.50 为中等,.25 为较弱;盲折法(省略距离 {distance})得到的 Q² 大于 0 表示具有预测相关性(Hair et al., 2022)。",
    ),
    "tab_plspredict": ("Out-of-sample prediction (PLSpredict)", "样本外预测(PLSpredict)"),
    "note_plspredict": (
        "{folds}-fold cross-validation repeated {repetitions} times (Shmueli et al., 2019); PLS predicts {better} of {total} items with a smaller RMSE than the linear-model benchmark (LM).",
        "{folds} 折交叉验证,重复 {repetitions} 次(Shmueli et al., 2019);在 {total} 个题项中,PLS 对 {better} 个题项的 RMSE 小于线性模型基准(LM)。",
    ),
    "power_high": ("The model has high predictive power.", "模型具有较高的预测能力。"),
    "power_medium": ("The model has medium predictive power.", "模型具有中等的预测能力。"),
    "power_low": ("The model has low predictive power.", "模型的预测能力较低。"),
    "power_none": ("The model lacks predictive power.", "模型缺乏预测能力。"),
    "fig_pls_indices": ("Satisfaction indices (0–100, ACSI method)", "满意度指数(0–100,ACSI 方法)"),
    "tab_pls_indices": ("Satisfaction indices (0–100)", "满意度指数(0–100)"),
    "pls_index": ("ACSI index", "ACSI 指数"),
    "mean_index": ("Mean index", "均值指数"),
    "note_pls_indices": (
        "ACSI index: the construct score from the rescaled unstandardized outer weights, on 0–100 (Fornell et al., 1996); mean index: the item mean on 0–100, for comparison.",
        "ACSI 指数:以重新标定的非标准化外部权重计算的构念得分,取值 0–100(Fornell et al., 1996);均值指数:题项均值换算为 0–100,供比较。",
    ),
    "pls_gof": (
        "Goodness of fit (GoF, Tenenhaus et al., 2005) = {gof}: reported as plspm does, although it cannot tell a valid model from an invalid one (Henseler & Sarstedt, 2013).",
        "拟合优度(GoF,Tenenhaus et al., 2005)= {gof}:按 plspm 的方式报告,但它无法区分有效与无效的模型(Henseler & Sarstedt, 2013)。",
    ),
    "sum_indices_pls": (
        "Satisfaction indices (0–100, ACSI method): {list}.",
        "满意度指数(0–100,ACSI 方法):{list}。",
    ),
    "note_ipma_pls": (
        "Importance: unstandardized total effect on {name} of the 0–100 construct scores; performance: the ACSI index. Quadrants split at the means (Ringle & Sarstedt, 2016).",
        "重要性:0–100 构念得分对{name}的非标准化总效应;表现:ACSI 指数。象限以均值划分(Ringle & Sarstedt, 2016)。",
    ),
    # construct names for common codes when no questionnaire definition is given
    "c_SAT": ("Satisfaction", "满意度"),
    "c_VAL": ("Perceived value", "感知价值"),
    "c_PV": ("Perceived value", "感知价值"),
    "c_SQ": ("Service quality", "服务质量"),
    "c_PQ": ("Perceived quality", "感知质量"),
    "c_QUAL": ("Perceived quality", "感知质量"),
    "c_TRU": ("Trust", "信任"),
    "c_CH": ("Complaint handling", "投诉处理"),
    "c_SWC": ("Switching costs", "转换成本"),
    "c_ATL": ("Attitudinal loyalty", "态度忠诚"),
    "c_BHL": ("Behavioural loyalty", "行为忠诚"),
    "c_LOY": ("Loyalty", "忠诚度"),
    "c_WOM": ("Word of mouth", "口碑"),
    "c_ENG": ("Engagement", "顾客契合"),
    "c_CE": ("Customer expectations", "顾客期望"),
    "c_EXPE": ("Customer expectations", "顾客期望"),
    "c_COMP": ("Complaints", "顾客抱怨"),
    "c_IMAGE": ("Image", "企业形象"),
    "c_IMAG": ("Image", "企业形象"),
}


def translate(key: str, language: str, /, **values: object) -> str:
    """The ``key`` string in ``language`` (``en`` or ``zh``), formatted with ``values``."""
    if language not in LANGUAGES:
        raise ValueError(f"report language must be one of {', '.join(LANGUAGES)}, not {language!r}")
    english, chinese = _CATALOG[key]
    template = chinese if language == "zh" else english
    return template.format(**values) if values else template


def has_key(key: str) -> bool:
    return key in _CATALOG
