"""The activity a scheduled drill needs: the plan from the playbooks folder as it is on the day
the drill runs (not as it was when the schedule was made)."""

import secrets
from pathlib import Path

from temporalio import activity
from temporalio.exceptions import ApplicationError

from domain.catalog import CatalogError, load_catalog
from domain.drills import DrillProblem, DrillRequest, drill_plan
from domain.incident import IncidentPlan


class DrillActivities:
    def __init__(self, playbooks_dir: Path):
        self._playbooks_dir = Path(playbooks_dir)

    def all(self) -> list:
        return [self.prepare_drill]

    @activity.defn
    async def prepare_drill(self, request: DrillRequest) -> IncidentPlan:
        try:
            catalog = load_catalog(self._playbooks_dir)
            return drill_plan(catalog, request, "inc-" + secrets.token_hex(8))
        except CatalogError as error:
            raise ApplicationError(f"the playbooks folder does not validate: {error.problems[0]}", non_retryable=True) from None
        except DrillProblem as problem:
            raise ApplicationError(problem.message, non_retryable=True) from None
