"""The public fact sheet: what the public may read, versioned, edited by the comms lead and the
commander; the only input of statement templates."""

from datetime import datetime

from domain.actions import FactSheetEdit
from domain.events import EventKind
from domain.factsheet import FactSheet, FactSheetFields, FactSheetVersion
from domain.incident.state import Rejected


class Facts:
    def fact_sheet_editors(self) -> list[str]:
        return list(dict.fromkeys([self.playbook.communicate.author, self.commander_role]))

    def check_fact_sheet_edit(self, action: FactSheetEdit) -> None:
        self._require_open()
        self._require_role(action.person, self.fact_sheet_editors(), "edit the public fact sheet")
        if not self.state.fact_sheet.changed_fields(self.state.fact_sheet.edited(action.fields)):
            raise Rejected("fields: nothing would change; give at least one field with a new value", "invalid")

    def edit_fact_sheet(self, action: FactSheetEdit, now: datetime) -> FactSheetVersion:
        return self._edit_fact_sheet(action.fields, action.person, now, via=action.via)

    def _edit_fact_sheet(
        self, fields: FactSheetFields, author: str, now: datetime, via: str | None = None
    ) -> FactSheetVersion | None:
        """A new version of the public fact sheet; None when ``fields`` change nothing."""
        current = self.state.fact_sheet
        sheet = current.edited(fields)
        changed = current.changed_fields(sheet)
        if not changed:
            return None
        version = FactSheetVersion(
            version=len(self.state.fact_sheet_versions) + 1, sheet=sheet, author=author, at=now, changed=changed
        )
        self.state.fact_sheet = sheet
        self.state.fact_sheet_versions.append(version)
        self._event(
            now,
            EventKind.FACT_SHEET_EDITED,
            author,
            f"Public fact sheet v{version.version} by {author}: {', '.join(changed)}",
            version=version.version,
            changed=changed,
            via=via,
        )
        self._release_answers_stated(current, now)
        return version

    def fact_sheet_at(self, version: int | None) -> FactSheet:
        """The public fact sheet as it was at ``version`` (0 or None: empty)."""
        return self.state.fact_sheet_versions[version - 1].sheet if version else FactSheet()
