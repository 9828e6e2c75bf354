"""The benchmark's results as plain-text tables (images/s and the ratio to the seed pipeline) and as JSON."""

from __future__ import annotations

import json
from pathlib import Path

from .results import row as find_row

__all__ = ["format_table", "write_json"]


def format_table(result: dict) -> str:
    """The results as plain-text tables: images/s (ratio to seed) per variant and batch size."""
    lines = [
        f"LeNet-5 throughput: {result['data']['train_images']:,} train / {result['data']['eval_images']:,} eval images "
        f"({result['data']['source']}); PyTorch {result['torch']}, {result['cpu_threads']} CPU threads",
        f"forward {result['model']['forward_macs'] / 1e6:.3f} M multiply-accumulates per image; "
        f"training counted as {result['model']['train_flops'] / 1e6:.2f} MFLOP, "
        f"evaluation {result['model']['forward_flops'] / 1e6:.2f} MFLOP per image",
        f"throughput: {result['timing']['statistic']}, {result['timing']['rounds']} rounds, variants taking turns",
    ]
    if "memory" in result:
        lines.append(f"memory: {result['memory']['note']}")
    for device, info in result["devices"].items():
        sizes = sorted({r["batch_size"] for r in result["rows"] if r["device"] == device})
        names = [
            v["name"]
            for v in result["variants"]
            if any(r["variant"] == v["name"] and r["device"] == device for r in result["rows"])
        ]
        lines.append("")
        lines.append(f"{device}: {info['name']}; peak {info['peak_gflops']:,.0f} GFLOP/s ({info['peak_method']})")
        for phase in ("train", "eval"):
            head = f"  {phase + ' img/s (x seed)':<26}" + "".join(f"{'batch ' + str(bs):>22}" for bs in sizes)
            lines.append(head)
            for name in names:
                cells = []
                for bs in sizes:
                    try:
                        row = find_row(result, device, name, bs, phase)
                    except KeyError:
                        cells.append(f"{'-':>22}")
                        continue
                    ratio = f"(x{row['ratio_to_seed']:.1f})" if row["ratio_to_seed"] else ""
                    cells.append(f"{row['images_per_s']:>13,.0f} {ratio:>8}")
                lines.append(f"  {name:<26}" + "".join(cells))
            if phase == "train":
                lines.append(_page_faults(result, device, sizes))
            best = max(
                (r for r in result["rows"] if r["device"] == device and r["phase"] == phase), key=lambda r: r["gflops"]
            )
            lines.append(
                f"  best {phase}: {best['variant']} at batch {best['batch_size']}: {best['gflops']:.1f} GFLOP/s, "
                f"{100 * best['peak_fraction']:.1f}% of the measured peak"
            )
    for variant, device, reason in dict.fromkeys((s["variant"], s["device"], s["reason"]) for s in result["skipped"]):
        lines.append(f"skipped {variant} on {device}: {reason}")
    bad = [c for c in result["checks"] if not c["ok"]]
    n_checks = len(result["checks"])
    lines.append("")
    lines.append(
        f"correctness: {n_checks - len(bad)}/{n_checks} variant checks agree with the seed pipeline "
        "(same batch and weights: loss, evaluation loss and accuracy, loss after one step)"
        + (
            ""
            if not bad
            else "; DISAGREE: " + ", ".join(f"{c['variant']}@{c['device']}/{c['batch_size']}" for c in bad)
        )
    )
    for c in result["compile"]:
        if c["against"] is None:
            continue
        verdict = "pays for itself" if c["pays_off_in_one_epoch"] else "does not pay for itself"
        even = (
            f"; breaks even after {c['epochs_to_break_even']:.1f} epochs"
            if c["epochs_to_break_even"]
            else "; never breaks even"
        )
        lines.append(
            f"torch.compile on {c['device']} at batch {c['batch_size']}: "
            f"{c['train_compile_s']:.1f} s to compile training, "
            f"{c['eval_compile_s']:.1f} s evaluation; within one epoch it {verdict} against {c['against']} "
            f"({c['epoch_s_compiled']:.1f} s vs {c['epoch_s_eager']:.1f} s){even}"
        )
    for e in result["epoch"]:
        lines.append(
            f"one epoch end to end on {e['device']}: {e['train_images']:,} train + {e['eval_images']:,} eval images in "
            f"{e['seconds']:.2f} s ({e['images_per_s']:,.0f} img/s): {e['how']}, batch {e['batch_size']}"
        )
    for t in result.get("targets", []):
        if t["device"] == "cpu":
            lines.append(
                f"target, CPU training at batch {t['batch_size']}: x{t['ratio']:.2f} ({t['best_variant']}) "
                f"against >= x{t['goal']}: {'met' if t['met'] else 'not met'}"
            )
        else:
            lines.append(
                f"target, GPU training: {t['images_per_s']:,.0f} img/s ({t['best_variant']}, batch {t['batch_size']}) "
                f"against >= {t['goal_images_per_s']:,}: {'met' if t['met'] else 'not met'}"
            )
    return "\n".join(lines)


def _page_faults(result: dict, device: str, sizes: list[int]) -> str:
    """One line: the training rows that took page faults, per batch, at each batch size."""
    parts = []
    for bs in sizes:
        rows = [r for r in result["rows"] if (r["device"], r["phase"], r["batch_size"]) == (device, "train", bs)]
        faulty = [
            f"{r['variant']} {r['page_faults_per_batch']:,.0f}" for r in rows if r.get("page_faults_per_batch", 0) >= 1
        ]
        parts.append(f"batch {bs}: " + (", ".join(faulty) if faulty else "none"))
    return "  page faults per training batch: " + "; ".join(parts)


def write_json(result: dict, path: str | Path) -> Path:
    """Write ``result`` to ``path`` as JSON (its folder made if need be); returns the path."""
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=1))
    return out
