"""A worker for tests/test_distributed.py: least squares through pipeline.trainer on a fixed data set,
each rank on its shard of every global batch; rank 0 (or the only process) saves the weights and the
history. Run by itself it trains in one process. With MDR_TEST_NO_AVERAGING set the gradient
averaging is switched off (the test that shows the comparison can fail)."""
import os
import sys

import torch

from pipeline import distributed
from pipeline.config import DistributedConfig
from pipeline.trainer import Loop, train


def fit(out: str) -> None:
    torch.manual_seed(0)
    x = torch.randn(64, 5, dtype=torch.float64)
    y = x @ torch.arange(5.0, dtype=torch.float64) + 0.1 * torch.randn(64, dtype=torch.float64)
    model = torch.nn.Linear(5, 1).double()
    opt = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    order = torch.Generator().manual_seed(1)

    def step(s: int) -> dict:
        rows = distributed.shard(torch.randperm(64, generator=order)[:16])
        loss = ((model(x[rows]).squeeze(1) - y[rows]) ** 2).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
        return {"loss": float(loss)}

    loop = Loop(model, {"sgd": opt}, 30, step, lambda s, window, _: {"step": s, "losses_seen": len(window)},
                log_every=10, generators={"order": order})
    trained = train(loop, "ddp_worker")
    if distributed.is_main():
        torch.save({"model": model.state_dict(), "history": trained.history,
                    "world": distributed.world_size()}, out)


if __name__ == "__main__":
    if os.environ.get("MDR_TEST_NO_AVERAGING"):
        distributed.average_gradients = lambda opt: opt.register_step_pre_hook(lambda *_: None)
    distributed.start("ddp_worker", "", DistributedConfig())   # under the launcher: join the group
    fit(sys.argv[1])
