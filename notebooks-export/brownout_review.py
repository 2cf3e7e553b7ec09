"""Charts and sentences for Brownout's planning-review notebooks.

Each function reads one output directory of `brownout run`, `sweep` or `size-fallback` (the
CSV tables documented in docs/outputs.md) and draws one figure with matplotlib. Every figure
has labelled axes with units; intervals are the tables' 95% intervals; colours come from a
palette that stays distinguishable in greyscale, and lines also differ in style and marker.
"""
import json
import math
import os

import matplotlib
import matplotlib.pyplot as plt
import pandas as pd

# Light-to-dark steps of distinct hues: distinguishable in colour and in greyscale print.
PALETTE = ["#1b3a6b", "#d9822b", "#6a9f58", "#8c8c8c", "#b8336a", "#e3c16f"]
LINESTYLES = ["-", "--", "-.", ":"]
MARKERS = ["o", "s", "^", "D", "v", "P"]

matplotlib.rcParams.update({
    "figure.figsize": (10, 4.2),
    "figure.dpi": 100,
    "axes.grid": True,
    "grid.alpha": 0.3,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "font.size": 10,
    "legend.frameon": False,
})


def read_csv(directory, name):
    return pd.read_csv(os.path.join(directory, name), keep_default_na=False, na_values=[""])


def first_variant(table):
    """The variant a run review reads: the first in the table (a run's baseline, or an
    incident's recorded tables)."""
    return table.variant.iloc[0] if len(table) else "baseline"


def kind_of(directory):
    """Which review an output directory holds: sizing, sweep, incident, variants or run."""
    names = set(os.listdir(directory))
    if "timeline.csv" in names:
        return "incident"
    if "sizing.csv" in names:
        return "sizing"
    if "sweep.csv" in names:
        return "sweep"
    if "compare.csv" in names:
        return "variants"
    if "summary.csv" in names:
        return "run"
    raise ValueError(f"{directory}: no Brownout outputs here (summary.csv, compare.csv, sweep.csv, sizing.csv or timeline.csv)")


def manifest(directory):
    for name in ("run.json", "sweep.json", "sizing.json", "incident.json"):
        path = os.path.join(directory, name)
        if os.path.exists(path):
            with open(path) as handle:
                return json.load(handle)
    return {}


def title(directory, what):
    m = manifest(directory)
    parts = [f"# {what}: {m.get('name', os.path.basename(os.path.normpath(directory)))}"]
    facts = []
    if "spec" in m:
        facts.append(f"spec `{m['spec']}`")
    if "spec_hash" in m:
        facts.append(f"hash `{m['spec_hash']}`")
    if "seed" in m:
        facts.append(f"seed {m['seed']}")
    if "replications" in m:
        facts.append(f"{m['replications']} replications")
    if "pool" in m:
        facts.append(f"pool `{m['pool']}`, {m['confidence'] * 100:g}% confidence, objective {m['objective']}")
    if "points" in m:
        facts.append(f"{m['points']} points")
        if "replications" not in m:
            replications = sorted(set(read_csv(directory, "sweep.csv").n))
            facts.append(f"{'/'.join(str(r) for r in replications)} replications per point")
    if "from" in m and "to" in m:
        facts.append(f"recorded {m['from']} – {m['to']}")
    if "traces" in m:
        facts.append(f"{len(m['traces'])} gateway trace{'s' if len(m['traces']) != 1 else ''}")
    if "version" in m:
        facts.append(f"brownout {m['version']}")
    return parts[0] + "\n\n" + ", ".join(facts) + f".\n\nOutputs read from `{directory}`."


def clock(seconds):
    seconds = int(round(seconds))
    return f"{seconds // 3600:02d}:{seconds % 3600 // 60:02d}"


def start_of_day(directory):
    """Seconds after midnight when the run starts (run.json's start_time), or None."""
    text = manifest(directory).get("start_time")
    if not text:
        return None
    hours, minutes = text.split(":")[:2]
    return int(hours) * 3600 + int(minutes) * 60


def hours_axis(ax, seconds_max, directory):
    step = 3600 if seconds_max > 4 * 3600 else 1800 if seconds_max > 3600 else 600
    ticks = list(range(0, int(seconds_max) + step, step))
    start = start_of_day(directory)
    ax.set_xticks(ticks)
    ax.set_xticklabels([clock(((start or 0) + t) % 86400) for t in ticks])
    ax.set_xlim(0, seconds_max)
    ax.set_xlabel("time of day (hh:mm)" if start is not None else "run time (hh:mm)")


# ---------------------------------------------------------------- run review

def run_summary_text(directory):
    """The plain-language summary, generated from the tables."""
    summary = read_csv(directory, "summary.csv")
    teams = read_csv(directory, "per_team.csv")
    base = summary[summary.variant == first_variant(summary)]
    lines = []
    for _, team in teams[teams.variant == first_variant(teams)].iterrows():
        row = base[(base.scope == team.team) & (base.metric == "availability")].iloc[0]
        verdict = "meets" if team.slo_availability_met else "misses"
        degraded = base[(base.scope == team.team) & (base.metric == "degraded_share")]["mean"].iloc[0]
        lines.append(f"- **{team.team}** (tier {team.tier}) was {row['mean'] * 100:.3f}% available "
                     f"(95% interval {row.ci95_low * 100:.3f}–{row.ci95_high * 100:.3f}%), so it {verdict} its "
                     f"{team.slo_availability * 100:.2f}% SLO; {degraded * 100:.1f}% of its answers came from local fallback; "
                     f"its p{team.latency_slo_percentile:g} latency was {team.latency_at_slo_percentile_s:.1f} s against "
                     f"{team.slo_latency_s:g} s. It was charged ${team.total_usd:,.2f}.")
    total = base[(base.scope == "all") & (base.metric == "cost_total_usd")].iloc[0]
    lines.append(f"- Spend was ${total['mean']:,.2f} per run (95% interval ${total.ci95_low:,.2f}–${total.ci95_high:,.2f}).")
    return "\n".join(lines)


def team_availability(ax, series, teams, width, title):
    """Each team's share of requests answered per bucket, with its SLO dotted."""
    for index, (name, group) in enumerate(series.groupby("team", sort=False)):
        ended = group.succeeded + group.failed
        share = (group.succeeded / ended.where(ended > 0)) * 100
        ax.plot(group.bucket_start_s + width / 2, share, color=PALETTE[index % len(PALETTE)],
                linestyle=LINESTYLES[index % len(LINESTYLES)], label=name, linewidth=1.6)
        slo = teams[teams.team == name].slo_availability
        if len(slo):
            ax.axhline(float(slo.iloc[0]) * 100, color=PALETTE[index % len(PALETTE)], linewidth=0.8, linestyle=":")
    ax.set_ylabel("answered, % of requests ended")
    ax.set_title(title)
    ax.legend(loc="lower left", ncol=1)
    ax.set_ylim(max(0, ax.get_ylim()[0]), 100.5)


def shade(ax, row, start, width, share):
    """One stretch of an upstream's row in a health strip, darker for a larger share (none at 0)."""
    if share > 0:
        ax.broken_barh([(start, width)], (row - 0.4, 0.8), color="#1b3a6b", alpha=min(1.0, 0.15 + 0.85 * share), linewidth=0)


def health_strip(ax, names, title):
    """The strip beneath an availability chart: a row per upstream, top to bottom."""
    ax.set_yticks(range(len(names)))
    ax.set_yticklabels(names)
    ax.set_ylim(-0.6, len(names) - 0.4)
    ax.invert_yaxis()
    ax.grid(False)
    ax.set_title(title, fontsize=9)


def availability_over_time(directory):
    series = read_csv(directory, "timeseries.csv")
    series = series[series.variant == first_variant(series)]
    health = read_csv(directory, "provider_timeseries.csv")
    health = health[health.variant == first_variant(health)]
    teams = read_csv(directory, "per_team.csv")
    bucket = series.bucket_start_s.drop_duplicates().sort_values()
    width = float(bucket.diff().dropna().min()) if len(bucket) > 1 else 1.0
    providers = list(dict.fromkeys(health.upstream))
    fig, (top, bottom) = plt.subplots(2, 1, figsize=(10, 5.6), sharex=True,
                                      gridspec_kw={"height_ratios": [3, max(1, len(providers)) * 0.45]})
    team_availability(top, series, teams[teams.variant == first_variant(teams)], width,
                      "Availability per team, per bucket (dotted: each team's SLO)")
    for row, provider in enumerate(providers):
        group = health[health.upstream == provider]
        for _, bucket_row in group.iterrows():
            shade(bottom, row, bucket_row.bucket_start_s, width, bucket_row.degraded_share)
    health_strip(bottom, providers,
                 "Providers outside their healthy state (darker: degraded in more of the bucket and of the replications)")
    hours_axis(bottom, float(bucket.max()) + width, directory)
    fig.tight_layout()
    return fig


def requests_by_outcome(directory):
    series = read_csv(directory, "timeseries.csv")
    series = series[series.variant == first_variant(series)]
    totals = series.groupby("bucket_start_s")[["succeeded", "succeeded_fallback", "failed"]].sum().reset_index()
    width = float(totals.bucket_start_s.diff().dropna().min()) if len(totals) > 1 else 1.0
    per_second = width
    frontier = (totals.succeeded - totals.succeeded_fallback) / per_second
    fallback = totals.succeeded_fallback / per_second
    failed = totals.failed / per_second
    fig, ax = plt.subplots()
    ax.bar(totals.bucket_start_s, frontier, width=width, align="edge", color=PALETTE[0], label="answered by a frontier provider")
    ax.bar(totals.bucket_start_s, fallback, width=width, align="edge", bottom=frontier, color=PALETTE[5],
           hatch="//", edgecolor="white", linewidth=0, label="answered by local fallback (degraded)")
    ax.bar(totals.bucket_start_s, failed, width=width, align="edge", bottom=frontier + fallback, color=PALETTE[4],
           hatch="xx", edgecolor="white", linewidth=0, label="failed")
    ax.set_ylabel("requests per second (all teams)")
    ax.set_title("Where requests ended, per bucket")
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.18), ncol=3)
    hours_axis(ax, float(totals.bucket_start_s.max()) + width, directory)
    fig.tight_layout()
    return fig


def chargeback(directory):
    teams = read_csv(directory, "per_team.csv")
    teams = teams[teams.variant == first_variant(teams)].reset_index(drop=True)
    parts = [("spend_successful_usd", "successful", PALETTE[0], ""), ("spend_retried_usd", "retried", PALETTE[1], ".."),
             ("spend_wasted_usd", "wasted", PALETTE[4], "xx"), ("fallback_gpu_usd", "fallback GPU", PALETTE[5], "//"),
             ("bypass_usd", "bypass", PALETTE[3], "\\\\")]
    fig, ax = plt.subplots(figsize=(10, 1.2 + 0.9 * len(teams)))
    left = pd.Series([0.0] * len(teams))
    for column, label, color, hatch in parts:
        ax.barh(teams.team, teams[column], left=left, color=color, hatch=hatch, edgecolor="white", linewidth=0, label=label)
        left = left + teams[column]
    for index, team in teams.iterrows():
        if not pd.isna(team.budget_usd):
            ax.plot([team.budget_usd] * 2, [index - 0.45, index + 0.45], color="black", linewidth=2)
            ax.annotate(f"budget ${team.budget_usd:,.0f} per {team.budget_period_s / 3600:g} h", (team.budget_usd, index + 0.45),
                        xytext=(4, 2), textcoords="offset points", fontsize=8)
        ax.annotate(f"${team.total_usd:,.2f}", (left[index], index), xytext=(4, -3), textcoords="offset points", fontsize=8)
    ax.invert_yaxis()
    ax.set_xlabel("USD per run (replication mean)")
    ax.set_title("Chargeback per team: five disjoint amounts that add up to the total")
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.35 if len(teams) < 3 else -0.22), ncol=5)
    ax.set_xlim(0, max(left.max(), teams.budget_usd.max() if teams.budget_usd.notna().any() else 0) * 1.25)
    fig.tight_layout()
    return fig


def providers(directory):
    table = read_csv(directory, "per_provider.csv")
    table = table[table.variant == first_variant(table)].reset_index(drop=True)
    errors = [c for c in table.columns if c.startswith("errors_") and table[c].sum() > 0]
    fig, axes = plt.subplots(1, 3, figsize=(12, 1.4 + 0.5 * len(table)), sharey=True)
    axes[0].barh(table.upstream, table.utilisation * 100, color=PALETTE[0])
    axes[0].set_xlabel("utilisation, % of servers busy")
    axes[0].set_xlim(0, 100)
    left = pd.Series([0.0] * len(table))
    for index, column in enumerate(errors):
        axes[1].barh(table.upstream, table[column], left=left, color=PALETTE[(index + 1) % len(PALETTE)],
                     hatch=["", "//", "..", "xx", "\\\\", "++"][index % 6], edgecolor="white", linewidth=0,
                     label=column.removeprefix("errors_"))
        left = left + table[column]
    axes[1].set_xlabel("errors per run, by class")
    if errors:
        fig.legend(*axes[1].get_legend_handles_labels(), fontsize=8, loc="lower center", ncol=min(6, len(errors)), bbox_to_anchor=(0.5, -0.02))
    axes[2].barh(table.upstream, table.breaker_openings, color=PALETTE[3])
    axes[2].set_xlabel("breaker openings per run")
    axes[0].invert_yaxis()
    fig.suptitle("Providers and pools")
    fig.tight_layout(rect=(0, 0.1 if errors else 0, 1, 1))
    return fig


def latency_against_slo(directory):
    summary = read_csv(directory, "summary.csv")
    teams = read_csv(directory, "per_team.csv")
    base = summary[(summary.variant == first_variant(summary)) & (summary.scope != "all")]
    names = list(teams[teams.variant == first_variant(teams)].team)
    percentiles = ["p50", "p90", "p99", "p999"]
    fig, ax = plt.subplots()
    width = 0.8 / len(percentiles)
    for j, p in enumerate(percentiles):
        rows = [base[(base.scope == n) & (base.metric == f"latency_{p}_s")].iloc[0] for n in names]
        means = [r["mean"] for r in rows]
        errors = [[r["mean"] - r.ci95_low for r in rows], [r.ci95_high - r["mean"] for r in rows]]
        positions = [i + (j - (len(percentiles) - 1) / 2) * width for i in range(len(names))]
        ax.bar(positions, means, width=width, yerr=errors, capsize=3, color=PALETTE[j], label=p.replace("p999", "p99.9"),
               hatch=["", "//", "..", "xx"][j], edgecolor="white", linewidth=0)
    for i, n in enumerate(names):
        team = teams[(teams.variant == first_variant(teams)) & (teams.team == n)].iloc[0]
        ax.plot([i - 0.45, i + 0.45], [team.slo_latency_s] * 2, color="black", linewidth=2)
        ax.annotate(f"SLO p{team.latency_slo_percentile:g} ≤ {team.slo_latency_s:g} s", (i + 0.45, team.slo_latency_s),
                    xytext=(-4, 4), textcoords="offset points", ha="right", fontsize=8)
    ax.set_xticks(range(len(names)))
    ax.set_xticklabels(names)
    ax.set_ylabel("latency, arrival to answer (s)")
    ax.set_title("Latency percentiles per team, with 95% intervals, against the SLO")
    ax.legend(ncol=4, loc="upper left")
    fig.tight_layout()
    return fig


def slo_table(directory):
    teams = read_csv(directory, "per_team.csv")
    teams = teams[teams.variant == first_variant(teams)]
    return pd.DataFrame({
        "team": teams.team,
        "availability": (teams.availability * 100).map("{:.3f}%".format),
        "availability SLO": (teams.slo_availability * 100).map("{:.2f}%".format),
        "met": teams.slo_availability_met.map({True: "yes", False: "no"}),
        "latency at SLO percentile": teams.latency_at_slo_percentile_s.map("{:.1f} s".format),
        "latency SLO": teams.slo_latency_s.map("{:g} s".format),
        "latency met": teams.slo_latency_met.map({True: "yes", False: "no"}),
    }).set_index("team")


# ---------------------------------------------------------------- bypass

def bypassing_teams(directory):
    """The teams whose route bypasses the gateway (run.json's `teams`), with the provider they call."""
    return [(team["name"], team["upstreams"][0]) for team in manifest(directory).get("teams", [])
            if team.get("mode") == "bypass" and team.get("upstreams")]


def availability_while_degraded(directory, provider):
    """Each team's availability over the stretches when `provider` was degraded: the buckets'
    answered and ended requests weighted by the share of the bucket (and of the replications)
    the provider spent outside its healthy state. NaN for a team that had none then."""
    series = read_csv(directory, "timeseries.csv")
    series = series[series.variant == first_variant(series)]
    health = read_csv(directory, "provider_timeseries.csv")
    health = health[(health.variant == first_variant(health)) & (health.upstream == provider)][["bucket_start_s", "degraded_share"]]
    joined = series.merge(health, on="bucket_start_s", how="left").fillna({"degraded_share": 0})
    joined["weighted_succeeded"] = joined.succeeded * joined.degraded_share
    joined["weighted_ended"] = (joined.succeeded + joined.failed) * joined.degraded_share
    sums = joined.groupby("team", sort=False)[["weighted_succeeded", "weighted_ended"]].sum()
    return (sums.weighted_succeeded / sums.weighted_ended.where(sums.weighted_ended > 0)).to_dict()


def bypass_text(directory):
    """What bypassing the gateway exposed each bypassing team to, next to the teams behind it."""
    bypassing = bypassing_teams(directory)
    if not bypassing:
        return ("No team bypasses the gateway in this run. A route with `mode: bypass` prices what a team is exposed to "
                "when it calls its provider directly during an incident (no failover, retry budget, breaker, local pool "
                "or budget): give one team such a route and this section compares it with the others.")
    teams = read_csv(directory, "per_team.csv")
    teams = teams[teams.variant == first_variant(teams)].set_index("team")
    providers = read_csv(directory, "per_provider.csv")
    providers = providers[providers.variant == first_variant(providers)].set_index("upstream")
    behind = [name for name in teams.index if name not in {team for team, _ in bypassing}]
    lines = []
    for team, provider in bypassing:
        degraded_time = float(providers.degraded_time_share.get(provider, 0))
        exposed = availability_while_degraded(directory, provider)
        row = teams.loc[team]
        sentence = (f"- **{team}** bypasses the gateway: every request goes straight to **{provider}**, with its SDK's "
                    f"retries only. Over the run it was {row.availability * 100:.3f}% available against its "
                    f"{row.slo_availability * 100:.2f}% SLO and was charged ${row.total_usd:,.2f}.")
        if degraded_time > 0 and not math.isnan(exposed.get(team, math.nan)):
            sentence += (f" While {provider} was degraded ({degraded_time * 100:.1f}% of the run, averaged over "
                         f"replications) it answered {exposed[team] * 100:.2f}% of its requests")
            others = [f"{name} {exposed[name] * 100:.2f}%" for name in behind if not math.isnan(exposed.get(name, math.nan))]
            sentence += f"; behind the gateway, in the same stretches: {', '.join(others)}." if others else "."
        else:
            sentence += f" {provider} was never degraded in this run, so bypassing cost it nothing here."
        lines.append(sentence)
    return "\n".join(lines)


def bypass_exposure(directory):
    """Per team, availability over the run and while each bypassed provider was degraded,
    p99 latency, and spend per 1,000 answers; bypassing teams hatched. None without a
    bypassing team."""
    bypassing = bypassing_teams(directory)
    if not bypassing:
        return None
    teams = read_csv(directory, "per_team.csv")
    teams = teams[teams.variant == first_variant(teams)].reset_index(drop=True)
    summary = read_csv(directory, "summary.csv")
    summary = summary[summary.variant == first_variant(summary)]
    names = list(teams.team)
    direct = {team: provider for team, provider in bypassing}
    labels = [f"{name}\n(bypass → {direct[name]})" if name in direct else f"{name}\n(via the gateway)" for name in names]
    series = [("over the run", dict(zip(teams.team, teams.availability)))]
    for provider in dict.fromkeys(provider for _, provider in bypassing):
        series.append((f"while {provider} was degraded", availability_while_degraded(directory, provider)))
    fig, axes = plt.subplots(1, 3, figsize=(12, 1.6 + 0.75 * len(names) * max(1, len(series) / 2)), sharey=True,
                             gridspec_kw={"width_ratios": [2, 1, 1]})
    height = 0.8 / len(series)
    for j, (label, values) in enumerate(series):
        positions = [i + (j - (len(series) - 1) / 2) * height for i in range(len(names))]
        shares = [values.get(name, math.nan) * 100 for name in names]
        bars = axes[0].barh(positions, shares, height=height, color=PALETTE[j % len(PALETTE)], label=label,
                            hatch=["", "//", "..", "xx"][j % 4], edgecolor="white", linewidth=0)
        for bar, share in zip(bars, shares):
            if not math.isnan(share):
                axes[0].annotate(f"{share:.2f}%", (bar.get_x() + bar.get_width(), bar.get_y() + bar.get_height() / 2),
                                 xytext=(-3, 0), textcoords="offset points", va="center", ha="right", fontsize=8,
                                 color="white", fontweight="bold")
    finite = [v * 100 for _, values in series for v in values.values() if not math.isnan(v)]
    low = min(finite) if finite else 0
    axes[0].set_xlim(max(0, low - (100 - low) * 1.5 - 0.05), 100)
    axes[0].set_xlabel("answered, % of requests ended")
    axes[0].legend(loc="upper center", bbox_to_anchor=(0.5, -0.2), ncol=len(series))
    p99 = [summary[(summary.scope == name) & (summary.metric == "latency_p99_s")]["mean"].iloc[0] for name in names]
    answered = teams.requests * teams.availability
    per_thousand = (teams.total_usd / answered.where(answered > 0) * 1000).tolist()
    for axis, values, label, unit in ((axes[1], p99, "p99 latency (s)", "{:.1f} s"),
                                      (axes[2], per_thousand, "USD per 1,000 answers", "${:,.2f}")):
        bars = axis.barh(range(len(names)), values, color=[PALETTE[3] if name in direct else PALETTE[0] for name in names],
                         hatch=["\\\\" if name in direct else "" for name in names], edgecolor="white", linewidth=0, height=0.6)
        for bar, value in zip(bars, values):
            if not math.isnan(value):
                axis.annotate(unit.format(value), (bar.get_width(), bar.get_y() + bar.get_height() / 2),
                              xytext=(3, 0), textcoords="offset points", va="center", fontsize=8)
        axis.set_xlabel(label)
        axis.set_xlim(0, max([v for v in values if not math.isnan(v)] or [1]) * 1.35)
    axes[0].set_yticks(range(len(names)))
    axes[0].set_yticklabels(labels)
    axes[0].invert_yaxis()
    fig.suptitle("Bypassing the gateway: each team's exposure (hatched, grey: teams that call their provider directly)")
    fig.tight_layout()
    return fig


# ---------------------------------------------------------------- variants

# ---------------------------------------------------------------- incident review

def incident_summary_text(directory):
    """What the gateways recorded, per team: no intervals, one history."""
    teams = read_csv(directory, "per_team.csv")
    m = manifest(directory)
    traces, ledgers = m.get("traces", []), m.get("ledgers", [])
    if ledgers:
        source = (f"The chargeback is the spend ledger's ({m.get('ledger_rows', 0):,} rows settled in the window)"
                  + (f"; {len(traces)} gateway trace{'s' if len(traces) != 1 else ''} gave the requests and latencies."
                     if traces else "; no trace was read, so requests count when they settled and there is no latency."))
    else:
        source = (f"The chargeback is what each gateway's router computed, its trace replayed "
                  f"({len(traces)} trace{'s' if len(traces) != 1 else ''}).")
    lines = [source, ""]
    if m.get("replay_divergent_decisions"):
        lines.append(f"- **Note:** replaying the traces gave {m['replay_divergent_decisions']} decisions other than those "
                     "recorded (`brownout replay` shows the first).")
    both = m.get("chargeback_usd", {})
    for _, team in teams.iterrows():
        verdict = "met" if team.slo_availability_met else "missed"
        latency = (f"its p{team.latency_slo_percentile:g} latency at the gateway was {team.latency_at_slo_percentile_s:.1f} s "
                   f"against {team.slo_latency_s:g} s" if traces else "its latency is not in a ledger")
        line = (f"- **{team.team}** (tier {team.tier}): {team.requests:,.0f} requests, {team.availability * 100:.3f}% answered, "
                f"so it {verdict} its {team.slo_availability * 100:.2f}% SLO; {latency}. "
                f"It was charged ${team.total_usd:,.2f}, ${team.spend_retried_usd:,.2f} of it on attempts that were then "
                f"retried and ${team.spend_wasted_usd:,.2f} on attempts of requests that failed or lost a race.")
        amounts = both.get(team.team)
        if amounts and abs(amounts["ledger"] - amounts["replay"]) > 1e-6:
            line += (f" Note: the ledger booked ${amounts['ledger']:,.4f} and the traces' replay ${amounts['replay']:,.4f}; "
                     "a replica's trace was left out, or rows were still in a spool.")
        lines.append(line)
    return "\n".join(lines)


def availability_with_observed_health(directory):
    """Each team's availability per bucket; beneath, each upstream's minutes: the share of its
    attempts that failed (darker: more), and a mark where a gateway's breaker was open."""
    series = read_csv(directory, "timeseries.csv")
    teams = read_csv(directory, "per_team.csv")
    timeline = read_csv(directory, "timeline.csv")
    bucket = series.bucket_start_s.drop_duplicates().sort_values()
    width = float(bucket.diff().dropna().min()) if len(bucket) > 1 else 60.0
    upstreams = list(dict.fromkeys(timeline.upstream))
    outcome_columns = [c for c in timeline.columns if c not in ("upstream", "minute", "minute_start_s", "attempts", "cancelled",
                                                                 "first_token_p50_s", "first_token_p90_s", "first_token_p99_s",
                                                                 "breakers_open")]
    fig, (top, bottom) = plt.subplots(2, 1, figsize=(10, 5.6), sharex=True,
                                      gridspec_kw={"height_ratios": [3, max(1, len(upstreams)) * 0.45]})
    team_availability(top, series, teams, width, "Availability per team, as recorded (dotted: each team's SLO)")
    minute = float(timeline.minute_start_s.drop_duplicates().sort_values().diff().dropna().min()) if len(timeline) > 1 else 60.0
    for row, upstream in enumerate(upstreams):
        group = timeline[timeline.upstream == upstream]
        for _, m in group.iterrows():
            ended = sum(m[c] for c in outcome_columns)
            failed = ended - m["success"]
            if ended > 0:
                shade(bottom, row, m.minute_start_s, minute, failed / ended)
            if m.breakers_open > 0:
                bottom.plot([m.minute_start_s + minute / 2], [row], marker="|", color=PALETTE[4], markersize=9)
    health_strip(bottom, upstreams, "Each upstream's failed attempts per minute (darker: a larger share; |: a breaker open)")
    hours_axis(bottom, float(max(bucket.max() + width, timeline.minute_start_s.max() + minute)), directory)
    fig.tight_layout()
    return fig


def variant_text(directory):
    compare = read_csv(directory, "compare.csv")
    lines = []
    for (variant, scope), group in compare[compare.metric == "availability"].groupby(["variant", "scope"], sort=False):
        row = group.iloc[0]
        sure = "" if row.difference_ci95_low <= 0 <= row.difference_ci95_high else " (the interval excludes zero)"
        lines.append(f"- **{variant}** changes {scope}'s availability by {row.difference_mean * 100:+.3f} points "
                     f"(95% interval {row.difference_ci95_low * 100:+.3f} to {row.difference_ci95_high * 100:+.3f}){sure}.")
    return "\n".join(lines)


FOREST_METRICS = [("availability", 100, "availability (percentage points)"), ("latency_p99_s", 1, "p99 latency (s)"),
                  ("attempts_per_request", 1, "attempts per request"), ("cost_total_usd", 1, "spend per run (USD)")]


def forest(directory):
    compare = read_csv(directory, "compare.csv")
    scopes = [s for s in dict.fromkeys(compare.scope)]
    variants = list(dict.fromkeys(compare.variant))
    fig, axes = plt.subplots(1, len(FOREST_METRICS), figsize=(12, 1.2 + 0.45 * len(scopes) * len(variants)), sharey=True)
    labels = [f"{v} · {s}" for s in scopes for v in variants]
    for ax, (metric, scale, label) in zip(axes, FOREST_METRICS):
        for row_index, (scope, variant) in enumerate((s, v) for s in scopes for v in variants):
            row = compare[(compare.metric == metric) & (compare.scope == scope) & (compare.variant == variant)]
            if not len(row):
                continue
            row = row.iloc[0]
            color = PALETTE[variants.index(variant) % len(PALETTE)]
            ax.errorbar(row.difference_mean * scale, row_index,
                        xerr=[[(row.difference_mean - row.difference_ci95_low) * scale], [(row.difference_ci95_high - row.difference_mean) * scale]],
                        fmt=MARKERS[variants.index(variant) % len(MARKERS)], color=color, capsize=3)
        ax.axvline(0, color="black", linewidth=0.8)
        ax.set_xlabel(f"difference from baseline\n{label}")
    axes[0].set_yticks(range(len(labels)))
    axes[0].set_yticklabels(labels)
    axes[0].invert_yaxis()
    fig.suptitle("Each variant's paired difference from the baseline, with its 95% interval (common random numbers)")
    fig.tight_layout()
    return fig


def tradeoff(directory, latency="first_token_p50_s"):
    """Each variant as a point: what it costs the client's first token (x) against what it
    buys in availability (y), all teams, both as paired differences from the baseline with
    their 95% intervals. A stream commit policy (holding an answer's start) sits to the right;
    whether it sits high enough is the decision."""
    compare = read_csv(directory, "compare.csv")
    scope = "all" if (compare.scope == "all").any() else compare.scope.iloc[0]
    variants = list(dict.fromkeys(compare.variant))
    fig, axes = plt.subplots(1, 2, figsize=(11, 4.2))
    for ax, (metric, label) in zip(axes, [(latency, "median"), (latency.replace("p50", "p99"), "p99")]):
        for index, variant in enumerate(variants):
            rows = compare[(compare.variant == variant) & (compare.scope == scope)].set_index("metric")
            if metric not in rows.index or "availability" not in rows.index:
                continue
            x, y = rows.loc[metric], rows.loc["availability"]
            ax.errorbar(x.difference_mean, y.difference_mean * 100,
                        xerr=[[x.difference_mean - x.difference_ci95_low], [x.difference_ci95_high - x.difference_mean]],
                        yerr=[[(y.difference_mean - y.difference_ci95_low) * 100], [(y.difference_ci95_high - y.difference_mean) * 100]],
                        fmt=MARKERS[index % len(MARKERS)], color=PALETTE[index % len(PALETTE)], capsize=3, label=variant)
        ax.axhline(0, color="black", linewidth=0.8)
        ax.axvline(0, color="black", linewidth=0.8)
        ax.set_xlabel(f"first-token latency ({label}) added, seconds")
        ax.set_ylabel("availability gained, percentage points")
    axes[0].legend(frameon=False)
    fig.suptitle(f"What each variant costs the first token and buys in availability ({scope}; paired differences, 95% intervals)")
    fig.tight_layout()
    return fig


# ---------------------------------------------------------------- sweep

SWEEP_METRICS = [("availability", "availability"), ("latency_p99_s", "p99 latency (s)"), ("cost_total_usd", "spend per run (USD)"),
                 ("attempts_per_request", "attempts per request")]


def sweep_dimensions(directory):
    with open(os.path.join(directory, "sweep.json")) as handle:
        return [d["path"] for d in json.load(handle)["dimensions"]]


def sweep_text(directory):
    table = read_csv(directory, "sweep.csv")
    dims = sweep_dimensions(directory)
    rows = table[(table.scope == "all") & (table.metric == "availability")]
    best = rows.loc[rows["mean"].idxmax()]
    worst = rows.loc[rows["mean"].idxmin()]
    describe = lambda r: ", ".join(f"{d} = {r[d]}" for d in dims)
    return (f"- {len(rows)} points over {', '.join(f'`{d}`' for d in dims)}.\n"
            f"- Best availability (all teams): {best['mean'] * 100:.3f}% at {describe(best)}.\n"
            f"- Worst: {worst['mean'] * 100:.3f}% at {describe(worst)}.")


def sweep_chart(directory, scope="all"):
    table = read_csv(directory, "sweep.csv")
    dims = sweep_dimensions(directory)
    table = table[table.scope == scope]
    x = dims[0]
    second = dims[1] if len(dims) > 1 else None
    fig, axes = plt.subplots(1, len(SWEEP_METRICS), figsize=(13, 3.6))
    numeric = pd.to_numeric(table[x], errors="coerce").notna().all()
    for ax, (metric, label) in zip(axes, SWEEP_METRICS):
        rows = table[table.metric == metric]
        groups = rows.groupby(second, sort=False) if second else [(None, rows)]
        for index, (value, group) in enumerate(groups):
            xs = pd.to_numeric(group[x]) if numeric else range(len(group))
            color = PALETTE[index % len(PALETTE)]
            ax.plot(xs, group["mean"], color=color, linestyle=LINESTYLES[index % 4], marker=MARKERS[index % 6],
                    label=f"{second.split('.')[-1]} = {value}" if second else None)
            ax.fill_between(xs, group.ci95_low, group.ci95_high, color=color, alpha=0.18, linewidth=0)
        if not numeric:
            ax.set_xticks(range(len(rows[x].unique())))
            ax.set_xticklabels(rows[x].unique())
        ax.set_xlabel(x.split(".")[-1] if len(x) > 28 else x)
        ax.set_ylabel(label)
        ax.ticklabel_format(axis="y", useOffset=False, style="plain")
    if second:
        axes[0].legend(fontsize=8)
    fig.suptitle(f"Sweep ({scope}): each metric against {x}, 95% intervals shaded")
    fig.tight_layout()
    return fig


# ---------------------------------------------------------------- sizing

def sizing_columns(table):
    slos = [c[:-5] for c in table.columns if c.endswith(" mean")]
    return slos


def sizing_answer(directory, table):
    """The size the search chose (sizing.json's answer, by its objective), else the smallest that met every SLO."""
    m = manifest(directory)
    if "answer" in m:
        return m["answer"]
    met = table[table.all_met == True]
    return int(met.iloc[0].replicas_in_pool) if len(met) else None


def sizing_text(directory):
    table = read_csv(directory, "sizing.csv")
    slos = sizing_columns(table)
    lines = [f"- SLOs: {', '.join(f'`{s}`' for s in slos)}; sizes evaluated: {', '.join(str(r) for r in table.replicas_in_pool)}."]
    count = sizing_answer(directory, table)
    objective = manifest(directory).get("objective", "smallest")
    if count == 0:
        lines.append("- **No pool is needed**: with the pool taken out of every route, every SLO is met.")
    elif count is not None:
        answer = table[table.replicas_in_pool == count].iloc[0]
        lines.append(f"- The {objective} pool that meets every SLO has **{count} {'replica' if count == 1 else 'replicas'}**: "
                     f"${answer.monthly_pool_gpu_usd:,.0f} a month in GPU time.")
    else:
        lines.append("- No size evaluated meets every SLO.")
    return "\n".join(lines)


def sizing_chart(directory):
    table = read_csv(directory, "sizing.csv")
    slos = sizing_columns(table)
    fig, axes = plt.subplots(1, len(slos), figsize=(max(7, 6 * len(slos)), 5), squeeze=False)
    answer = sizing_answer(directory, table)
    for ax, slo in zip(axes[0], slos):
        operator = ">=" if ">=" in slo else "<="
        threshold = float(slo.split(operator)[1])
        ax.plot(table.replicas_in_pool, table[f"{slo} mean"], color=PALETTE[0], marker="o", label=f"{slo.split(operator)[0]} (mean)")
        ax.fill_between(table.replicas_in_pool, table[f"{slo} ci_low"], table[f"{slo} ci_high"], color=PALETTE[0], alpha=0.2,
                        linewidth=0, label="confidence interval")
        ax.axhline(threshold, color="black", linestyle="--", linewidth=1, label=f"SLO {operator} {threshold:g}")
        if answer is not None:
            ax.axvline(answer, color=PALETTE[4], linewidth=1.5, linestyle=":", label="chosen: no pool" if answer == 0 else f"chosen: {answer} {'replica' if answer == 1 else 'replicas'}")
        ax.set_xlabel("pool replicas")
        ax.set_xticks(list(table.replicas_in_pool))
        ax.set_ylabel(slo.split(operator)[0].split(".", 1)[1])
        cost = ax.twinx()
        cost.plot(table.replicas_in_pool, table.monthly_pool_gpu_usd / 1000, color=PALETTE[1], linestyle="-.", marker="s",
                  label="pool GPU cost")
        cost.set_ylabel("pool GPU cost (thousand USD a month)")
        cost.spines["right"].set_visible(True)
        cost.grid(False)
        handles = ax.get_legend_handles_labels()
        more = cost.get_legend_handles_labels()
        ax.legend(handles[0] + more[0], handles[1] + more[1], fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.2), ncol=2)
        ax.set_title(slo)
    fig.suptitle("Pool size against each SLO, with its confidence interval and the monthly GPU cost")
    fig.tight_layout()
    return fig
