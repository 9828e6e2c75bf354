"""The speed benchmark: its quick mode's structure and the agreement of every variant (never its speed)."""

import json
from dataclasses import replace

import pytest
import torch

from lenet_course import bench
from lenet_course.cli import main
from lenet_course.data import Split, SplitDataset, mnist_transform
from lenet_course.fast.memory import keep_freed_memory
from lenet_course.models import LeNet5

BATCH_SIZES = (32, 256, 1024)


@pytest.fixture(scope="module")
def quick(tmp_path_factory):
    """One quick run through the command line, as ``make bench`` runs the full one."""
    out = tmp_path_factory.mktemp("bench") / "results" / "bench.json"
    code = main(["bench", "--quick", "--device", "cpu", "--json", str(out)])
    return code, json.loads(out.read_text())


def test_quick_run_exits_cleanly_and_says_what_it_ran(quick):
    code, result = quick
    assert code == 0
    assert result["quick"] is True
    assert result["command"].startswith("python -m lenet_course bench --quick --device cpu")
    assert result["data"]["train_images"] >= max(BATCH_SIZES)
    assert result["model"]["forward_macs"] == 416_520
    assert result["model"]["train_flops"] == 3 * result["model"]["forward_flops"]
    assert result["devices"]["cpu"]["peak_gflops"] > 0


def test_every_variant_batch_size_and_phase_is_measured_or_skipped_with_a_reason(quick):
    _, result = quick
    names = [v.name for v in bench.VARIANTS]
    assert [v["name"] for v in result["variants"]] == names
    skipped = {s["variant"]: s["reason"] for s in result["skipped"] if s["device"] == "cpu"}
    assert set(skipped) == {"compile", "cuda_graph"}  # quick mode, and no GPU on the CPU
    assert all(skipped.values())
    measured = [n for n in names if n not in skipped]
    keys = {(r["variant"], r["batch_size"], r["phase"]) for r in result["rows"]}
    expected = {(n, bs, phase) for n in measured for bs in BATCH_SIZES for phase in ("train", "eval")}
    assert keys == expected
    assert len(result["rows"]) == len(expected)  # one row each, no duplicates


def test_the_json_holds_every_field_of_every_row_and_reads_back_unchanged(quick):
    _, result = quick
    assert set(result) == {
        "command", "quick", "python", "torch", "cpu_threads", "data", "model", "optimizer", "timing",
        "compile_cache", "variants", "devices", "rows", "skipped", "checks", "compile", "epoch", "targets", "memory",
    }  # fmt: skip
    assert set(result["rows"][0]) == {
        "device", "variant", "batch_size", "phase", "images_per_s", "images_per_s_median", "batches_timed",
        "rounds", "page_faults_per_batch", "first_batch_s", "batch_s", "ratio_to_seed", "gflops", "peak_fraction",
    }  # fmt: skip
    assert set(result["checks"][0]) == {
        "device", "batch_size", "variant", "reference", "images", "data_max_abs_diff", "eval_loss", "eval_correct",
        "train_loss", "loss_after_step", "first_eval_s", "first_train_s", "max_loss_diff", "rtol", "ok",
    }  # fmt: skip
    assert set(result["model"]) == {"name", "forward_macs", "forward_flops", "train_flops", "note"}
    assert {frozenset(s) for s in result["skipped"]} == {frozenset({"device", "variant", "reason"})}
    typed = bench.BenchResult.from_dict(result)
    assert isinstance(typed.rows[0], bench.results.Row) and isinstance(typed.checks[0], bench.results.Check)
    assert json.loads(json.dumps(typed.to_dict())) == result


def test_throughput_is_positive_and_ratios_are_against_the_seed_row_of_the_same_batch_size(quick):
    _, result = quick
    peak = result["devices"]["cpu"]["peak_gflops"]
    for row in result["rows"]:
        assert row["images_per_s"] > 0 and row["images_per_s_median"] > 0
        assert row["images_per_s_median"] <= row["images_per_s"]
        seed = next(
            r
            for r in result["rows"]
            if (r["variant"], r["batch_size"], r["phase"]) == ("seed", row["batch_size"], row["phase"])
        )
        assert row["ratio_to_seed"] == pytest.approx(row["images_per_s"] / seed["images_per_s"])
        flops = result["model"]["train_flops" if row["phase"] == "train" else "forward_flops"]
        assert row["gflops"] == pytest.approx(row["images_per_s"] * flops / 1e9)
        assert row["peak_fraction"] == pytest.approx(row["gflops"] / peak)
    assert all(r["ratio_to_seed"] == pytest.approx(1.0) for r in result["rows"] if r["variant"] == "seed")


def test_every_variant_computes_the_same_loss_and_accuracy_for_the_same_batch_and_weights(quick):
    _, result = quick
    checks = result["checks"]
    assert {(c["variant"], c["batch_size"]) for c in checks} == {
        (r["variant"], r["batch_size"]) for r in result["rows"]
    }
    for bs in BATCH_SIZES:
        group = [c for c in checks if c["batch_size"] == bs]
        seed = next(c for c in group if c["variant"] == "seed")
        assert seed["images"] == bs
        for c in group:
            assert c["ok"], c
            assert c["data_max_abs_diff"] == 0.0  # both pipelines feed the very same pixels
            assert c["train_loss"] == pytest.approx(seed["train_loss"], rel=1e-4)
            assert c["eval_loss"] == pytest.approx(seed["train_loss"], rel=1e-4)  # same weights, same batch
            assert c["loss_after_step"] == pytest.approx(seed["loss_after_step"], rel=1e-4)
            assert c["eval_correct"] == seed["eval_correct"]
        # the step really changed the weights, so the comparison after it means something
        assert seed["loss_after_step"] != pytest.approx(seed["train_loss"], rel=1e-4)


def test_the_printed_table_shows_every_measured_variant():
    result = bench.run_benchmark(
        devices=["cpu"], batch_sizes=(8,), quick=True, data="generated", variants=["seed", "logits"], log=None
    )
    table = bench.format_table(result)
    assert "seed" in table and "logits" in table and "batch 8" in table
    assert "2/2 variant checks agree" in table
    assert result.data.source.startswith("generated")


def test_seed_model_is_the_articles_and_holds_the_same_weights():
    torch.manual_seed(0)
    course = LeNet5()
    seed = bench.seed_model_from(course)
    assert isinstance(seed.feature_extractor, torch.nn.Sequential)
    x = torch.rand(5, 1, 32, 32)
    logits, probs = seed(x)
    torch.testing.assert_close(logits, course(x))
    torch.testing.assert_close(probs, torch.softmax(course(x), dim=1))
    assert sum(p.numel() for p in seed.parameters()) == 61_706


def test_resizing_once_gives_the_articles_pixels():
    g = torch.Generator().manual_seed(1)
    images = torch.randint(0, 256, (20, 28, 28), generator=g, dtype=torch.uint8)
    per_image = SplitDataset(Split(images, torch.zeros(20, dtype=torch.long)), mnist_transform("resize"))
    expected = torch.stack([per_image[i][0] for i in range(20)])
    got = bench.resize_once(images).unsqueeze(1).float().div(255)
    assert torch.equal(got, expected)


def test_generated_data_has_mnists_shape_and_all_classes():
    data = bench.load_bench_data("generated", n_train=500, n_eval=100)
    assert data.train.images.shape == (500, 28, 28) and data.train.images.dtype == torch.uint8
    assert len(data.eval) == 100
    assert set(data.train.labels.tolist()) == set(range(10))


def test_forward_macs_counts_lenet5():
    # 6*28*28*25 + 16*10*10*150 + 120*400 + 120*84 + 84*10
    assert bench.forward_macs(LeNet5()) == 117_600 + 240_000 + 48_000 + 10_080 + 840


def test_bad_requests_say_what_to_do():
    with pytest.raises(ValueError, match="unknown variant"):
        bench.run_benchmark(devices=["cpu"], quick=True, variants=["warp_drive"], log=None)
    if not torch.cuda.is_available():
        with pytest.raises(ValueError, match="no CUDA GPU"):
            bench.run_benchmark(devices=["cuda"], quick=True, log=None)
    with pytest.raises(ValueError, match="data must be"):
        bench.load_bench_data("nowhere")


def test_bad_batch_sizes_are_refused_by_the_command_line(capsys):
    with pytest.raises(SystemExit):
        main(["bench", "--quick", "--batch-sizes", "32,zero"])
    assert "expected batch sizes like 32,256,1024" in capsys.readouterr().err


@pytest.mark.cuda
def test_cuda_variants_agree_with_the_seed_on_the_gpu():
    result = bench.run_benchmark(devices=["cuda"], batch_sizes=(256,), quick=True, log=None)
    names = {c.variant for c in result.checks}
    assert "cuda_graph" in names
    assert all(c.ok for c in result.checks), [c for c in result.checks if not c.ok]


@pytest.mark.parametrize("fused", [None, False])
def test_fit_on_the_cpu_hands_back_the_usual_layout(fused):
    """Fused (the default) or channels-last (``fused=False``): the weights end in the layout a learner expects."""
    from lenet_course.data import TensorLoader
    from lenet_course.training import fit

    data = bench.load_bench_data("generated", n_train=256, n_eval=64)
    train = TensorLoader(data.train, batch_size=64, shuffle=True)
    valid = TensorLoader(data.eval, batch_size=64)
    torch.manual_seed(0)
    model = LeNet5()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    first = fit(model, train, valid, epochs=2, optimizer=optimizer, device="cpu", fused=fused, progress=False, log=None)
    assert model.c3.weight.is_contiguous()
    assert model.c3.weight.view(16, -1).shape == (16, 150)  # a learner's .view() still works
    second = fit(
        model, train, valid, epochs=2, optimizer=optimizer, device="cpu", fused=fused, progress=False, log=None
    )
    assert second.train_loss[-1] < first.train_loss[0]  # the same optimiser carries on learning


def test_every_row_counts_its_page_faults_and_the_memory_setting_is_recorded(quick):
    _, result = quick
    assert result["memory"]["mode"] == "steady"
    assert result["memory"]["freed_blocks_kept"] is keep_freed_memory()
    for row in result["rows"]:
        assert row["page_faults_per_batch"] >= 0
    assert "page faults per training batch: batch 32:" in bench.format_table(bench.BenchResult.from_dict(result))


def test_an_unknown_memory_setting_is_refused():
    with pytest.raises(ValueError, match="memory must be 'steady' or 'default', got 'huge'"):
        bench.run_benchmark(devices=["cpu"], quick=True, memory="huge", log=None)


def test_memory_default_is_passed_through_and_named_in_the_command(tmp_path):
    out = tmp_path / "bench.json"
    code = main(
        [
            "bench",
            "--quick",
            "--device",
            "cpu",
            "--batch-sizes",
            "32",
            "--variants",
            "seed,fused_blocks",
            "--memory",
            "default",
            "--json",
            str(out),
        ]
    )
    result = json.loads(out.read_text())
    assert code == 0
    assert result["memory"] == {
        "mode": "default",
        "freed_blocks_kept": False,
        "note": "the C library's allocator as it was: timings may include page faults (see page_faults_per_batch)",
    }
    assert result["command"].endswith("--memory default")
    assert {r["variant"] for r in result["rows"]} == {"seed", "fused_blocks"}


@pytest.mark.parametrize("before", [False, True])
def test_the_cudnn_autotuner_is_on_for_the_gpu_only_and_put_back_afterwards(before, monkeypatch):
    """The benchmark turns cuDNN's autotuner on while it measures a GPU, and leaves the process as it found it."""
    from types import SimpleNamespace

    from lenet_course.bench import runner

    seen = []

    def run_device(result, config, device, *args):
        seen.append((device.type, torch.backends.cudnn.benchmark))
        if device.type == "cuda" and config.seed == 1:
            raise RuntimeError("the GPU fell over")

    monkeypatch.setattr(runner, "_run_device", run_device)
    monkeypatch.setattr(torch.backends.cudnn, "benchmark", before)
    data = SimpleNamespace(source="none", train=[0] * 4, eval=[0] * 4)
    config = runner.BenchConfig(devices=("cpu", "cuda"), rounds=1, round_seconds=0.0, seed=0)
    runner._run(config, data, log=lambda _msg: None)
    assert seen == [("cpu", before), ("cuda", True)]
    assert torch.backends.cudnn.benchmark is before
    seen.clear()
    with pytest.raises(RuntimeError, match="the GPU fell over"):
        runner._run(replace(config, seed=1), data, log=lambda _msg: None)
    assert seen == [("cpu", before), ("cuda", True)]
    assert torch.backends.cudnn.benchmark is before  # put back when the run fails too
