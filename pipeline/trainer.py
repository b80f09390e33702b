"""The one training loop of every model (MacridVAE and Mult-VAE, DRIT, the noisy channel, the
acoustic encoder, the judge classifier).

A model supplies a `Loop`: its optimizers, what one step does, and what a history row says. The
skeleton runs the steps with the learning-rate schedule, keeps an optional exponential moving average
(EMA, Polyak) of the weights, logs a row every `log_every` steps, keeps the best weights by a score of
the row (with patience), and with a `Resume` writes a checkpoint every `every` steps. A checkpoint
holds everything the next step depends on (weights, optimizers, schedulers, EMA, best weights, history,
the torch random state and the loop's own generators), so a run restarted from it takes exactly the
steps the uninterrupted run would have taken and ends with the same weights.

Data-parallel (pipeline.distributed): every rank runs the loop on its shard of each batch, with
gradients averaged before every optimizer step. Rows are reported by rank 0 from all ranks' losses
and sent to the others, so selection and early stopping agree; rank 0 alone writes checkpoints,
which keep each rank's random state. A checkpoint resumes at any world size: with the same one, each
rank takes its own random state back and the run continues exactly; with another, the weights,
optimizers and shared generators continue and the per-rank noise is drawn afresh.
"""
from __future__ import annotations

import copy
import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np
import torch

from pipeline import distributed
from pipeline.checkpoint import read, write
from pipeline.progress import Progress, say


@dataclass(frozen=True)
class Selection:
    """Keep the weights of the row with the best `score(row)`; stop after `patience` rows without one."""
    score: Callable[[dict], float]
    maximize: bool = True
    patience: int | None = None


@dataclass
class Loop:
    model: torch.nn.Module
    optimizers: dict[str, torch.optim.Optimizer]
    steps: int
    step: Callable[[int], dict]                    # trains step s (1-based); returns its losses as floats
    report: Callable[[int, list[dict], torch.nn.Module], dict]   # row at step s from the steps' losses since
                                                   # the last row and the weights judged (the EMA's, if any)
    log_every: int
    lr: Callable[[int], dict[str, float]] | None = None   # rates by optimizer name, set before step s
    schedulers: dict = field(default_factory=dict)        # torch LR schedulers, stepped after every step
    select: Selection | None = None
    ema: float = 0.0                                       # EMA decay per step; 0 = off
    generators: dict = field(default_factory=dict)        # torch or numpy generators the steps draw from
                                                           # (the same on every rank: batch order, say)
    describe: Callable[[dict], str] = lambda row: ""       # the progress line's text for a row


@dataclass(frozen=True)
class Resume:
    """Checkpoint to `path` every `every` steps; resume from it when its fingerprint is this run's."""
    path: Path
    fingerprint: str
    every: int

    def clear(self) -> None:
        """The run's outputs are written: the partial checkpoint has served."""
        Path(self.path).unlink(missing_ok=True)


@dataclass
class Trained:
    history: list[dict]
    steps: int                          # steps run in all (fewer than planned after an early stop)
    best_step: int | None = None
    best_score: float | None = None


def fingerprint(*parts) -> str:
    """What a partial run must share with this one to be resumed: configs, seed, data (as bytes or repr)."""
    h = hashlib.sha256()
    for p in parts:
        h.update(p.tobytes() if isinstance(p, np.ndarray) else repr(p).encode())
    return h.hexdigest()


def train(loop: Loop, name: str, resume: Resume | None = None, on_log: Callable[[dict], None] | None = None) -> Trained:
    """Run `loop` to its last step (or its selection's patience); the model ends with the kept weights:
    the best row's, else the EMA's, else the last step's."""
    model = loop.model
    averaged = (torch.optim.swa_utils.AveragedModel(model, multi_avg_fn=torch.optim.swa_utils.get_ema_multi_avg_fn(loop.ema))
                if loop.ema else None)
    judged = averaged.module if averaged is not None else model
    state = {"step": 0, "history": [], "window": [], "best": None, "best_step": None, "best_score": None, "stale": 0}
    rank, world = distributed.rank(), distributed.world_size()
    resumed = _resumed(resume, loop, averaged, name) if resume is not None else None
    state = resumed or state
    hooks = []
    if world > 1:
        distributed.broadcast_module(model)
        if averaged is not None:
            distributed.broadcast_module(averaged)
        hooks = [distributed.average_gradients(o) for o in loop.optimizers.values()]
        if resumed is None and rank:
            torch.manual_seed(torch.initial_seed() + rank)   # each rank its own dropout and sampling noise
    start = state["step"]
    progress = Progress(name, loop.steps)
    for s in range(start + 1, loop.steps + 1):
        if loop.lr is not None:
            for opt_name, rate in loop.lr(s).items():
                for group in loop.optimizers[opt_name].param_groups:
                    group["lr"] = rate
        model.train()
        state["window"].append(loop.step(s))
        for scheduler in loop.schedulers.values():
            scheduler.step()
        if averaged is not None:
            averaged.update_parameters(model)
        state["step"] = s
        stop = False
        if s % loop.log_every == 0 or s == loop.steps:
            judged.eval()
            window = [w for part in distributed.gathered(state["window"]) for w in part]
            row = distributed.from_main(loop.report(s, window, judged) if rank == 0 else None)
            state["window"] = []
            state["history"].append(row)
            if on_log is not None and rank == 0:
                on_log(row)
            stop = _select(loop.select, row, judged, state)
            progress.step(s, loop.describe(row))
        if resume is not None and s % resume.every == 0 and s < loop.steps and not stop:
            _save(resume, loop, averaged, state)
        if stop:
            progress.done(f"early stop at step {s} (best at {state['best_step']})")
            break
    for hook in hooks:
        hook.remove()
    if state["best"] is not None:
        model.load_state_dict(state["best"])
    elif averaged is not None:
        model.load_state_dict(judged.state_dict())
    model.eval()
    return Trained(state["history"], state["step"], state["best_step"], state["best_score"])


def mean_losses(window: list[dict], weight: str | None = None) -> dict:
    """The mean of each loss over the steps since the last row (weighted by the `weight` entry if given),
    each over the steps that report it (a term can switch off mid-window)."""
    keys = list(dict.fromkeys(k for row in window for k in row if k != weight))
    rows = {k: [row for row in window if k in row] for k in keys}
    w = {k: np.array([row[weight] if weight else 1.0 for row in rows[k]], float) for k in keys}
    return {k: float(np.dot([row[k] for row in rows[k]], w[k]) / w[k].sum()) for k in keys}


def _select(select: Selection | None, row: dict, judged, state: dict) -> bool:
    """Keep `judged`'s weights if `row` scores best so far; True when patience has run out."""
    if select is None:
        return False
    score = select.score(row)
    best = state["best_score"]
    if best is None or (score > best if select.maximize else score < best):
        state.update(best=copy.deepcopy(judged.state_dict()), best_step=state["step"], best_score=score, stale=0)
        return False
    state["stale"] += 1
    return select.patience is not None and state["stale"] >= select.patience


def _random_state(loop: Loop) -> dict:
    return {"torch": torch.get_rng_state(),
            "cuda": torch.cuda.get_rng_state_all() if torch.cuda.is_available() else None,
            "generators": {k: g.get_state() if isinstance(g, torch.Generator) else g.bit_generator.state
                           for k, g in loop.generators.items()}}


def _set_random_state(loop: Loop, saved: dict) -> None:
    torch.set_rng_state(saved["torch"])
    if saved.get("cuda") is not None and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(saved["cuda"])
    for k, g in loop.generators.items():
        if isinstance(g, torch.Generator):
            g.set_state(saved["generators"][k])
        else:
            g.bit_generator.state = saved["generators"][k]


def _save(resume: Resume, loop: Loop, averaged, state: dict) -> None:
    """Rank 0 writes the checkpoint; the windows and random states of every rank go into it."""
    windows, randoms = zip(*distributed.gathered((state["window"], _random_state(loop))))
    if distributed.rank() != 0:
        return
    training = {"fingerprint": resume.fingerprint, **state, "windows": list(windows),
                "optimizers": {k: o.state_dict() for k, o in loop.optimizers.items()},
                "schedulers": {k: s.state_dict() for k, s in loop.schedulers.items()},
                "ema": averaged.state_dict() if averaged is not None else None,
                "random": randoms[0], "random_by_rank": list(randoms)}
    write(resume.path, "partial", getattr(loop.model, "cfg", None), loop.model, training=training)


def _resumed(resume: Resume, loop: Loop, averaged, name: str) -> dict | None:
    """The loop restored from `resume.path` and the state to go on with; None (start afresh) when
    there is no checkpoint, it is another run's, or it cannot be read."""
    if not Path(resume.path).exists():
        return None
    parts = {"model": loop.model, **{f"optimizer {k}": o for k, o in loop.optimizers.items()},
             **{f"scheduler {k}": s for k, s in loop.schedulers.items()}}
    fresh = {k: copy.deepcopy(p.state_dict()) for k, p in parts.items()}
    try:
        saved = read(resume.path, "partial")
        training = saved["training"]
        if training["fingerprint"] != resume.fingerprint:
            say(name, f"not resuming from {resume.path}: it is another run's (config, seed or data differ)")
            return None
        loop.model.load_state_dict(saved["model"])
        for k, o in loop.optimizers.items():
            o.load_state_dict(training["optimizers"][k])
        for k, s in loop.schedulers.items():
            s.load_state_dict(training["schedulers"][k])
        if averaged is not None:
            averaged.load_state_dict(training["ema"])
        rank, world = distributed.rank(), distributed.world_size()
        by_rank = training.get("random_by_rank") or [training["random"]]
        windows = training.get("windows") or [training["window"]]
        if len(by_rank) == world:
            _set_random_state(loop, by_rank[rank])
            training["window"] = windows[rank]
        else:   # another world size: the shared generators go on, each rank's own noise is new
            _set_random_state(loop, by_rank[0])
            torch.manual_seed(int(fingerprint(resume.fingerprint, training["step"], rank)[:15], 16))
            training["window"] = [w for part in windows for w in part] if rank == 0 else []
            say(name, f"the checkpoint was written by {len(by_rank)} process(es), this run has {world}: "
                      "the weights and data order continue, the random noise of each process is drawn afresh")
    except (ValueError, KeyError, RuntimeError, TypeError) as e:
        for k, p in parts.items():     # whatever was loaded before the failure is undone
            p.load_state_dict(fresh[k])
        say(name, f"not resuming from {resume.path}: {' '.join(str(e).split())[:200]}")
        return None
    say(name, f"resuming from step {training['step']} ({resume.path})")
    return {k: training[k] for k in ("step", "history", "window", "best", "best_step", "best_score", "stale")}


def linear_decay(lr: float, step: int, steps: int, decay_from: float) -> float:
    """DRIT's 'lambda' policy: `lr` until decay_from·steps, then linear to zero at the last step.
    A function of the step alone, so a resumed run follows the same schedule."""
    start = decay_from * steps
    if step < start:
        return lr
    return lr * (steps - step) / (steps - start + 1)
