"""Dask scale-out: a real LocalCluster gives the in-process numbers; bad addresses fail in one line."""

from __future__ import annotations

import numpy as np
import pytest

from tawazun.errors import InputError
from tawazun.uncertainty import ensemble_cluster, run_ensemble
from tawazun.uncertainty.distributed import check_address

from test_uncertainty import emissions_ranged


# Starting two worker processes takes 5-10 s on an idle 2-core machine; the limit leaves
# room for a machine busy with other work.
@pytest.mark.timeout(60)
def test_local_cluster_equals_in_process():
    rp = emissions_ranged()
    ref = run_ensemble(rp, "median", draws=3000, seed=8, chunk_size=3000)
    ref_pert = run_ensemble(rp, "compromise", draws=1000, seed=8, dist="pert")
    seen = []
    # One real LocalCluster (2 processes), reused by two ensembles.
    with ensemble_cluster(workers=2) as client:
        assert len(client.scheduler_info()["workers"]) == 2
        got = run_ensemble(rp, "median", draws=3000, seed=8, chunk_size=700, scheduler=client,
                           progress=lambda done, total: seen.append(done))
        pert = run_ensemble(rp, "compromise", draws=1000, seed=8, dist="pert", chunk_size=300,
                            scheduler=client)
    assert np.array_equal(got.forecast, ref.forecast)
    assert np.array_equal(pert.forecast, ref_pert.forecast)
    assert got.scheduler and got.scheduler.startswith("tcp://")
    assert sorted(seen) == seen and seen[-1] == 3000 and len(seen) == 5


def test_in_process_session_is_none():
    with ensemble_cluster(workers=1) as client:
        assert client is None


@pytest.mark.parametrize("address", ["not-an-address", "tcp://", "tcp://host:99999", "http://1.2.3.4:80"])
def test_malformed_scheduler_address(address):
    with pytest.raises(InputError) as info:
        run_ensemble(emissions_ranged(), "median", draws=10, scheduler=address)
    assert len(info.value.lines) == 1 and "\n" not in str(info.value)
    assert "not a scheduler address" in str(info.value)


@pytest.mark.timeout(30)
def test_unreachable_scheduler():
    with pytest.raises(InputError) as info:
        run_ensemble(emissions_ranged(), "median", draws=10, scheduler="tcp://127.0.0.1:1")
    assert len(info.value.lines) == 1 and "\n" not in str(info.value)
    assert "cannot reach tcp://127.0.0.1:1" in str(info.value)


def test_well_formed_addresses_pass_the_check():
    assert check_address("tcp://127.0.0.1:8786") == "tcp://127.0.0.1:8786"
    assert check_address(" tcp://scheduler.example:8786/ ") == "tcp://scheduler.example:8786"
    assert check_address("tls://[::1]:8786") == "tls://[::1]:8786"
