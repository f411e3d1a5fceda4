"""One provider instance under its server's 4 concurrent workers."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor

from pulumi.runtime import proto

from pulumi_pingback.simulator import Simulator

from .engine import Driver, Engine, ResourceState, channel, to_struct


def test_100_creates_and_100_deletes_interleaved_with_reads(
    sim: Simulator, make_engine: Callable[..., Engine]
) -> None:
    engine = make_engine()
    sim.set_latency(0.01)
    found_after_create: list[bool] = []
    gone_after_delete: list[bool] = []
    with engine.session() as drv:

        def read(r: ResourceState) -> str:  # a bare Read, as a refresh makes it
            resp = drv.rpc(
                "Read",
                r.name,
                proto.ReadRequest(
                    id=r.id,
                    urn=engine.urn(r.name),
                    properties=to_struct(r.outputs),
                    inputs=to_struct(r.inputs),
                ),
            )
            return str(resp.id)

        def create(i: int) -> ResourceState:
            d = channel(f"c{i}", "webchat" if i % 2 else "sms", {"n": str(i)})
            news, _ = drv.news(d)
            checked, secrets = drv.check(d, {}, news)
            r = drv.create(d, checked, secrets)
            found_after_create.append(read(r) == r.id)  # never a list older than the write
            return r

        def delete(created: Future[ResourceState], driver: Driver = drv) -> None:
            r = created.result()
            driver.delete(r)
            gone_after_delete.append(read(r) == "")

        with ThreadPoolExecutor(8) as pool:
            creates: list[Future[ResourceState]] = []
            deletes: list[Future[None]] = []
            for i in range(100):
                creates.append(pool.submit(create, i))
                if i >= 4:  # deletes start while creates are still running
                    deletes.append(pool.submit(delete, creates[i - 4]))
            for created in creates[96:]:
                deletes.append(pool.submit(delete, created))
            for made in creates:
                made.result()
            for deleted in deletes:
                deleted.result()

    log = sim.requests()
    assert sum(r["method"] == "POST" for r in log) == 100
    assert sum(r["method"] == "DELETE" and r["status"] == 200 for r in log) == 100
    assert sim.channels() == []
    assert found_after_create == [True] * 100
    assert gone_after_delete == [True] * 100
    assert sim.max_inflight() == 4
    created_ids = {c.result().id for c in creates}
    assert len(created_ids) == 100
