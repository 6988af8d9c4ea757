"""One publication that breaks reconciliation never stops the others' (nor the daemon).

`campaign reconcile` and the daemon's start reconcile every unknown outcome in one loop;
an unexpected error on one row (here a row written by an older release, whose media list
lacks the alt texts) ended the loop with a traceback, and at start it stopped `campaign
run` itself. Now that row stays unknown, is alerted, and the others are looked for.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import update

from scheduler.reconcile import Reconciler
from scheduler.store.models import Publication, State
from scheduler.store.store import Store
from tests.fakes.graph_api import FakeGraphAPI
from tests.fakes.graph_api import fake_graph as fake_graph
from tests.test_publish_race import photo_request
from tests.test_trust_exactly_once import POLICY, facebook, put_in_state


def test_a_row_that_breaks_reconciliation_never_stops_the_others(
    fake_graph: FakeGraphAPI, tmp_path: Path
) -> None:
    request = photo_request(tmp_path)
    store = Store.open(f"sqlite:///{tmp_path / 'campaign.db'}")
    try:
        good = put_in_state(store, request, "unknown")
        now = datetime.now(UTC)
        old = store.ensure_publication(
            "2021-09-01-gammal", "facebook", now - timedelta(hours=5), now
        )  # looked at first
        assert old.id is not None
        store.set_state(old.id, State.UNKNOWN, now, "no answer before the timeout")
        with store.writing() as session:
            session.execute(
                update(Publication)
                .where(Publication.id == old.id)  # type: ignore[arg-type]
                .values(media_json='[{"file": "a.jpg"}]', claimed_at=now - timedelta(hours=1))
            )

        results = Reconciler(store, {"facebook": facebook(fake_graph)}, POLICY).reconcile_all(
            force=True
        )

        by_post = {result.post_id: result for result in results}
        assert by_post["2021-09-01-gammal"].state is State.UNKNOWN
        assert "could not be checked: an unexpected error (KeyError" in (
            by_post["2021-09-01-gammal"].message
        )
        assert store.get_by_id(good).state == State.SCHEDULED  # looked for: not there
        assert store.get_by_id(old.id).state == State.UNKNOWN
        assert any(
            alert.kind == "unknown" and alert.post_id == "2021-09-01-gammal"
            for alert in store.alerts()
        )
    finally:
        store.close()
