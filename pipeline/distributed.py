"""Data-parallel training over torch.distributed (gloo on CPU, nccl on GPU), started by torchrun's launcher.

A stage whose `distributed.nproc_per_node` (or `nnodes`) asks for more than one process relaunches
itself through torch's elastic launcher (what `torchrun` runs) and waits; each worker joins the
process group and trains on its shard of every global batch. Gradients are averaged over the ranks
by a pre-hook on every optimizer's step, so any model with any number of optimizers and backward
passes (DRIT has four) trains as with DistributedDataParallel: every rank applies the same averaged
gradient and the weights stay equal. Rank 0 alone writes checkpoints, outputs and the MLflow run.
A rank that dies stops the others (the launcher's doing) and the stage fails with one line naming the
rank; outputs are written only at the end, so earlier ones stay, and the partial checkpoint resumes
at any world size.
"""
from __future__ import annotations

import atexit
import os
import signal
import sys
import uuid

import torch
import torch.distributed as dist

from pipeline.config import DistributedConfig
from pipeline.progress import say
from pipeline.stage import RankFailed


def rank() -> int:
    return dist.get_rank() if dist.is_initialized() else 0


def world_size() -> int:
    return dist.get_world_size() if dist.is_initialized() else 1


def is_main() -> bool:
    return rank() == 0


def shard(rows, r: int | None = None, n: int | None = None):
    """This rank's share of a global batch: rows r, r + n, r + 2n, ..."""
    r, n = rank() if r is None else r, world_size() if n is None else n
    return rows[r::n]


def _is_worker() -> bool:
    return "TORCHELASTIC_RUN_ID" in os.environ and int(os.environ.get("WORLD_SIZE", "1")) > 1


def start(stage: str, module: str, cfg: DistributedConfig) -> bool:
    """Called first in a stage's main. In a worker: join the process group, return True (train).
    In the stage's own process asking for several: launch `python -m module` on every rank, wait, and
    return False (the workers did the work); raise RankFailed when one failed. Otherwise True."""
    if _is_worker():
        backend = cfg.backend if cfg.backend != "auto" else ("nccl" if torch.cuda.is_available() else "gloo")
        dist.init_process_group(backend)
        atexit.register(dist.destroy_process_group)
        if backend == "nccl":
            torch.cuda.set_device(int(os.environ["LOCAL_RANK"]))
        return True
    if not cfg.wanted:
        return True
    launch(stage, [sys.executable, "-m", module], cfg)
    return False


def launch(stage: str, command: list[str], cfg: DistributedConfig) -> None:
    """Run `command` on nproc_per_node local ranks (of nnodes) and wait; RankFailed names a failed rank."""
    from torch.distributed.elastic.multiprocessing.errors import ChildFailedError
    from torch.distributed.launcher.api import LaunchConfig, elastic_launch

    standalone = cfg.nnodes == 1 and not cfg.rdzv_endpoint
    config = LaunchConfig(min_nodes=cfg.nnodes, max_nodes=cfg.nnodes, nproc_per_node=cfg.nproc_per_node,
                          run_id=uuid.uuid4().hex if standalone else f"mdr-{stage}", rdzv_backend="c10d",
                          rdzv_endpoint="localhost:0" if standalone else cfg.rdzv_endpoint,
                          max_restarts=0, monitor_interval=0.5)
    say(stage, f"data-parallel over {cfg.nnodes} node(s) × {cfg.nproc_per_node} process(es)")
    try:
        elastic_launch(config, command[0])(*command[1:])
    except ChildFailedError as e:
        first_rank, failure = min(e.failures.items(), key=lambda kv: kv[1].timestamp)
        raise RankFailed(f"rank {first_rank} of {cfg.nnodes * cfg.nproc_per_node} {_ended(failure.exitcode)}; "
                         "the other ranks were stopped and outputs of earlier runs are intact "
                         "(a rerun resumes from the last checkpoint)") from None


def _ended(code: int) -> str:
    if code < 0:
        return f"was killed by {signal.Signals(-code).name}"
    return f"exited with code {code}"


def threads_per_process(threads: int) -> int:
    """A stage's thread budget shared by the processes of this node."""
    return max(1, threads // int(os.environ.get("LOCAL_WORLD_SIZE", "1")))


# -- inside the training loop ------------------------------------------------------------------

def broadcast_module(module: torch.nn.Module) -> None:
    """Every rank starts from rank 0's weights and buffers."""
    for t in module.state_dict().values():
        dist.broadcast(t, 0)


def average_gradients(optimizer: torch.optim.Optimizer):
    """Average the gradients of `optimizer`'s parameters over the ranks before each of its steps
    (one flattened all-reduce); returns the hook's handle."""
    world = world_size()

    def hook(opt, _args, _kwargs):
        grads = [p.grad for group in opt.param_groups for p in group["params"] if p.grad is not None]
        if not grads:
            return
        flat = torch._utils._flatten_dense_tensors(grads)
        dist.all_reduce(flat)
        flat /= world
        for g, avg in zip(grads, torch._utils._unflatten_dense_tensors(flat, grads)):
            g.copy_(avg)

    return optimizer.register_step_pre_hook(hook)


def gathered(obj) -> list:
    """`obj` from every rank, in rank order (just [obj] without a process group)."""
    if not dist.is_initialized():
        return [obj]
    out = [None] * world_size()
    dist.all_gather_object(out, obj)
    return out


def from_main(obj):
    """Rank 0's `obj` on every rank."""
    if not dist.is_initialized():
        return obj
    box = [obj]
    dist.broadcast_object_list(box, 0)
    return box[0]
