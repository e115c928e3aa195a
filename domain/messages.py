"""What crisisflow says to the crisis team, in the incident's language (English or Polish).

Pure text by person id: contacts, action links and acknowledgement codes are added by the notify
activity at send time. ``sms`` is the short form (one GSM-7 segment where possible); ``body``
is the full text for email.
"""

import unicodedata
from dataclasses import dataclass
from datetime import datetime, timedelta

from pydantic import BaseModel, Field

from domain.durations import humanize

LANGUAGES = ("en", "pl")
SMS_LIMIT = 160

_TEXTS: dict[str, dict[str, str]] = {
    "en": {
        "page.subject": "{severity} crisis: {title}",
        "page.body": (
            "You are paged as {role}{escalated} for incident {incident}: {title}.\n\n{summary}\n\nAcknowledge within {within} or"
            " the next person is paged."
        ),
        "page.sms": "{severity} {title} - paged as {role}.",
        "page.escalated": " (escalation level {level})",
        "taken.subject": "Taken: {title}",
        "taken.body": "{taker} acknowledged incident {incident} as {role}. You will not be paged again for it.",
        "taken.sms": "{title}: {taker} took it as {role}. No action needed.",
        "reminder.subject": "Overdue: {what}",
        "reminder.body": "Incident {incident}: '{what}' was due at {due} and is still open.",
        "reminder.sms": "Overdue ({incident}): {what}",
        "task.subject": "Task: {title}",
        "task.body": "Incident {incident}: you own '{title}', due at {due}.{handover}",
        "task.sms": "Task ({incident}): {title}, due {due}",
        "task.handover": " It passed to you because {previous} did not complete it in time.",
        "approval.subject": "[{severity}] Approve statement v{version}: {title}",
        "approval.body": "Incident {incident}: statement v{version} needs your approval as {role}.\n\n{text}",
        "approval.sms": "{title}: statement v{version} needs your approval as {role}.",
        "approval.reminder": "Reminder: {subject}",
        "link.approve": "Review and approve",
        "answer_approval.subject": "Approve answer '{answer_id}' v{version} for the team's replies: {title}",
        "answer_approval.body": (
            "Incident {incident}: a new version of an answer in the team's answers kit needs your approval as {role}. It is not"
            " published: people replying to the public use it.\n\nQ: {question}\nA: {text}"
        ),
        "answer_approval.sms": "Answer '{answer_id}' v{version} ({incident}) needs your approval as {role}.",
        "answer_revision.subject": "Changes requested on answer '{answer_id}' v{version}",
        "answer_revision.body": (
            "Incident {incident}: {by} requested changes to answer '{answer_id}' v{version}{comment}. Propose a new version."
        ),
        "answer_revision.sms": "{by} requested changes to answer '{answer_id}' v{version} ({incident}).",
        "internal.mark": "INTERNAL – for {name} only. Do not forward, post or quote it outside the company.",
        "internal.subject": "[INTERNAL] {name}: {title}",
        "internal_approval.subject": "Approve the internal message for {name} v{version}: {title}",
        "internal_approval.body": (
            "Incident {incident}: the message to {name} needs your approval as {role}. Once approved it is emailed to them,"
            " marked internal; it is never published.\n\n{text}"
        ),
        "internal_approval.sms": "Internal message for {name} v{version} ({incident}) needs your approval as {role}.",
        "internal_revision.subject": "Changes requested on the internal message for {name} v{version}",
        "internal_revision.body": (
            "Incident {incident}: {by} requested changes to the internal message for {name} v{version}{comment}. Submit a new"
            " version."
        ),
        "internal_revision.sms": "{by} requested changes to the internal message for {name} v{version} ({incident}).",
        "reply_surge.subject": "Negative replies are surging under statement v{version}: {title}",
        "reply_surge.body": (
            "Incident {incident}: {negative} of {scored} replies to statement v{version} are negative. Consider an update or an"
            " answer from the kit; the replies are on the incident page."
        ),
        "reply_surge.sms": "{negative} of {scored} replies to statement v{version} are negative ({incident}).",
        "revision.subject": "Changes requested on statement v{version}: {title}",
        "revision.body": "Incident {incident}: {by} requested changes to statement v{version}{comment}. Submit a new version.",
        "revision.sms": "{by} requested changes to statement v{version} ({incident}).",
        "review.subject": "Post-incident review",
        "review.body": "Incident {incident} is resolved. Submit the post-incident review by {due}.",
        "review.sms": "Review for {incident} due {due}.",
        "feedback.subject": "How did we do? Feedback on: {title}",
        "feedback.body": (
            "Incident {incident} ({title}) is resolved. Rate the response from 1 to 5 and say what went well and what went badly,"
            " by {due}. The link works once."
        ),
        "link.feedback": "Give feedback",
        "resent.note": "(Sent again by {channel}: the first message did not arrive.)",
        "stakeholder.declared": "Incident declared ({severity}): {title}. {summary}",
        "stakeholder.acknowledged": "{title}: {person} has taken command of the incident.",
        "stakeholder.published": "{title}: statement v{version} is now public.\n\n{text}",
        "stakeholder.resolved": "{title} is resolved: {text}",
        "stakeholder.reassessed": "{title} is now {severity} (was {previous}): {reason}",
        "severity.subject": "[{severity}] Severity now {severity} (was {previous}): {title}",
        "severity.body": (
            "Incident {incident} ({title}) is now {severity}, was {previous}. {by} re-assessed it: {reason}\n\nDeadlines still to"
            " come follow the new severity."
        ),
        "severity.sms": "{title}: now {severity} (was {previous}). {reason}",
        "stakeholder.subject": "[{severity}] {title}: {event}",
        "stakeholder.internal": "INTERNAL",
        "stakeholder.internal_note": (
            "Internal: this message carries the crisis team's own notes. Do not forward it or quote it in public; what the public"
            " reads is the published statement."
        ),
        "link.acknowledge": "Acknowledge",
        "link.incident": "Open the incident",
        "sms.ack": "Reply ACK {code} or {link}",
        "call.page": (
            "This is crisisflow. {page} Press 1 to acknowledge. Any other key, or hanging up, lets the escalation go on."
        ),
        "call.no_key": "No key was pressed: the escalation goes on. Goodbye.",
        "call.acknowledged": "Acknowledged. You have the incident. Goodbye.",
        "call.other_key": "Not acknowledged: the escalation goes on. Goodbye.",
        "call.not_counted": "Nothing changed: {reason}. Goodbye.",
    },
    "pl": {
        "page.subject": "Kryzys {severity}: {title}",
        "page.body": (
            "Wzywamy Cię jako {role}{escalated} do incydentu {incident}: {title}.\n\n{summary}\n\nPotwierdź w ciągu {within},"
            " inaczej wezwiemy kolejną osobę."
        ),
        "page.sms": "{severity} {title} - wezwanie jako {role}.",
        "page.escalated": " (poziom eskalacji {level})",
        "taken.subject": "Przejęte: {title}",
        "taken.body": "{taker} przejmuje incydent {incident} jako {role}. Nie będziemy Cię już wzywać w tej sprawie.",
        "taken.sms": "{title}: {taker} przejmuje sprawę jako {role}. Nic nie musisz robić.",
        "reminder.subject": "Po terminie: {what}",
        "reminder.body": "Incydent {incident}: termin „{what}” minął o {due}, a sprawa wciąż czeka.",
        "reminder.sms": "Po terminie ({incident}): {what}",
        "task.subject": "Zadanie: {title}",
        "task.body": "Incydent {incident}: odpowiadasz za zadanie „{title}”, termin {due}.{handover}",
        "task.sms": "Zadanie ({incident}): {title}, termin {due}",
        "task.handover": " Zadanie przeszło na Ciebie, bo nie zostało wykonane na czas przez {previous}.",
        "approval.subject": "[{severity}] Zatwierdź oświadczenie v{version}: {title}",
        "approval.body": "Incydent {incident}: oświadczenie v{version} czeka na Twoje zatwierdzenie jako {role}.\n\n{text}",
        "approval.sms": "{title}: oświadczenie v{version} czeka na zatwierdzenie jako {role}.",
        "approval.reminder": "Przypomnienie: {subject}",
        "link.approve": "Przeczytaj i zatwierdź",
        "answer_approval.subject": "Zatwierdź odpowiedź '{answer_id}' v{version} dla zespołu: {title}",
        "answer_approval.body": (
            "Incydent {incident}: nowa wersja odpowiedzi z zestawu odpowiedzi zespołu czeka na Twoje zatwierdzenie jako {role}."
            " Nie jest publikowana: korzystają z niej osoby, które odpowiadają na pytania klientów i obserwujących.\n\nP:"
            " {question}\nO: {text}"
        ),
        "answer_approval.sms": "Wersja v{version} odpowiedzi '{answer_id}' ({incident}) czeka na zatwierdzenie jako {role}.",
        "answer_revision.subject": "Poprawki do odpowiedzi '{answer_id}' v{version}",
        "answer_revision.body": (
            "Incydent {incident}: {by} prosi o poprawki w odpowiedzi '{answer_id}' v{version}{comment}. Zaproponuj nową wersję."
        ),
        "answer_revision.sms": "{by} prosi o poprawki w odpowiedzi '{answer_id}' v{version} ({incident}).",
        "internal.mark": "WEWNĘTRZNE – tylko dla: {name}. Nie przesyłaj dalej, nie publikuj i nie cytuj poza firmą.",
        "internal.subject": "[WEWNĘTRZNE] {name}: {title}",
        "internal_approval.subject": "Zatwierdź wiadomość wewnętrzną dla: {name} v{version}: {title}",
        "internal_approval.body": (
            "Incydent {incident}: wiadomość dla odbiorców „{name}” czeka na Twoje zatwierdzenie jako {role}. Po zatwierdzeniu"
            " wyślemy ją do nich e-mailem z oznaczeniem „wewnętrzne”; nigdy nie jest publikowana.\n\n{text}"
        ),
        "internal_approval.sms": "Wiadomość wewnętrzna dla: {name} v{version} ({incident}) czeka na zatwierdzenie jako {role}.",
        "internal_revision.subject": "Poprawki do wiadomości wewnętrznej dla: {name} v{version}",
        "internal_revision.body": (
            "Incydent {incident}: {by} prosi o poprawki w wiadomości wewnętrznej dla: {name} v{version}{comment}. Prześlij nową"
            " wersję."
        ),
        "internal_revision.sms": "{by} prosi o poprawki w wiadomości wewnętrznej dla: {name} v{version} ({incident}).",
        "reply_surge.subject": "Fala negatywnych odpowiedzi pod oświadczeniem v{version}: {title}",
        "reply_surge.body": (
            "Incydent {incident}: {negative} z {scored} odpowiedzi na oświadczenie v{version} jest negatywnych. Rozważ"
            " aktualizację lub odpowiedź z zestawu; odpowiedzi są na stronie incydentu."
        ),
        "reply_surge.sms": "{negative} z {scored} odpowiedzi na oświadczenie v{version} jest negatywnych ({incident}).",
        "revision.subject": "Poprawki do oświadczenia v{version}: {title}",
        "revision.body": "Incydent {incident}: {by} prosi o poprawki w oświadczeniu v{version}{comment}. Prześlij nową wersję.",
        "revision.sms": "{by} prosi o poprawki w oświadczeniu v{version} ({incident}).",
        "review.subject": "Przegląd po incydencie",
        "review.body": "Incydent {incident} jest rozwiązany. Prześlij przegląd po incydencie do {due}.",
        "review.sms": "Przegląd po incydencie {incident}: termin {due}.",
        "feedback.subject": "Jak nam poszło? Opinia o: {title}",
        "feedback.body": (
            "Incydent {incident} ({title}) jest rozwiązany. Do {due} oceń naszą reakcję w skali 1–5 i napisz, co poszło dobrze, a"
            " co źle. Link działa jeden raz."
        ),
        "link.feedback": "Przekaż opinię",
        "resent.note": "(Wysłane ponownie przez {channel}: pierwsza wiadomość nie dotarła.)",
        "stakeholder.declared": "Ogłoszono incydent ({severity}): {title}. {summary}",
        "stakeholder.acknowledged": "{title}: {person} przejmuje dowodzenie incydentem.",
        "stakeholder.published": "{title}: oświadczenie v{version} jest już publiczne.\n\n{text}",
        "stakeholder.resolved": "{title}: incydent rozwiązany. {text}",
        "stakeholder.reassessed": "{title}: poziom incydentu to teraz {severity} (był {previous}): {reason}",
        "severity.subject": "[{severity}] Poziom teraz {severity} (był {previous}): {title}",
        "severity.body": (
            "Incydent {incident} ({title}) ma teraz poziom {severity}, był {previous}. Ocenę zmienia {by}: {reason}\n\nTerminy,"
            " które są jeszcze przed nami, dostosowują się do nowego poziomu."
        ),
        "severity.sms": "{title}: teraz {severity} (był {previous}). {reason}",
        "stakeholder.subject": "[{severity}] {title}: {event}",
        "stakeholder.internal": "WEWNĘTRZNE",
        "stakeholder.internal_note": (
            "Wiadomość wewnętrzna: zawiera notatki zespołu kryzysowego. Nie przekazujcie jej dalej i nie cytujcie publicznie;"
            " publicznie mówimy tylko to, co jest w opublikowanym oświadczeniu."
        ),
        "link.acknowledge": "Potwierdzam",
        "link.incident": "Otwórz incydent",
        "sms.ack": "Odpisz ACK {code} lub {link}",
        "call.page": (
            "Tu crisisflow. {page} Naciśnij 1, aby potwierdzić. Inny klawisz albo rozłączenie się oznacza, że eskalacja trwa"
            " dalej."
        ),
        "call.no_key": "Nie naciśnięto żadnego klawisza: eskalacja trwa dalej. Do widzenia.",
        "call.acknowledged": "Potwierdzone. Incydent jest Twój. Do widzenia.",
        "call.other_key": "Nie potwierdzono: eskalacja trwa dalej. Do widzenia.",
        "call.not_counted": "Nic się nie zmieniło: {reason}. Do widzenia.",
    },
}


def text(language: str, key: str, **values: object) -> str:
    table = _TEXTS.get(language, _TEXTS["en"])
    return table[key].format(**values)


class Notice(BaseModel):
    """A message for one person; ``page`` notices want an acknowledgement (the activity adds the link)."""

    incident_id: str
    person: str
    kind: str
    subject: str
    body: str
    sms: str
    language: str = "en"
    channels: list[str] = Field(default_factory=lambda: ["sms", "email"])
    drill: bool = False
    version: int | None = Field(
        None, description="The statement version (or answer proposal number) an approval notice is about."
    )


class DeliveryFailure(BaseModel):
    """A provider said a message did not arrive (undelivered SMS, bounced email); the workflow
    then sends the same notice on the person's other channel."""

    ledger_key: str = Field(description="workflow id / activity id / channel of the failed send")
    person: str
    channel: str
    reason: str


def gsm_safe(value: str) -> str:
    """SMS text in the GSM-7 alphabet: Polish letters lose their accents (ł → l), so a page fits
    one 160-character segment instead of three 70-character UCS-2 ones."""
    value = value.replace("ł", "l").replace("Ł", "L")
    return unicodedata.normalize("NFKD", value).encode("ascii", "ignore").decode()


def sms_with_action(sms: str, action: str) -> str:
    """Shorten the text, never the action, so the code and link always survive."""
    sms, action = gsm_safe(sms), gsm_safe(action)
    room = SMS_LIMIT - len(action) - 1
    if len(sms) > room:
        sms = sms[: max(room - 1, 0)].rstrip() + "~"
    return f"{sms} {action}" if sms else action


@dataclass(frozen=True)
class Messenger:
    """Composes every notice of one incident, in its language."""

    incident_id: str
    title: str
    severity: str
    summary: str = ""
    language: str = "en"
    drill: bool = False

    def _notice(self, person: str, kind: str, key: str, channels: list[str] | None = None, **values: object) -> Notice:
        values = {"incident": self.incident_id, "title": self.title, "severity": self.severity, "summary": self.summary, **values}
        subject = text(self.language, f"{key}.subject", **values)
        sms = text(self.language, f"{key}.sms", **values)
        return Notice(
            incident_id=self.incident_id,
            person=person,
            kind=kind,
            subject=f"[DRILL] {subject}" if self.drill else subject,
            body=text(self.language, f"{key}.body", **values),
            sms=f"[DRILL] {sms}" if self.drill else sms,
            language=self.language,
            channels=channels or ["sms", "email"],
            drill=self.drill,
        )

    def page(self, person: str, role: str, level: int, within: timedelta, channels: list[str] | None = None) -> Notice:
        escalated = text(self.language, "page.escalated", level=level + 1) if level else ""
        return self._notice(person, "page", "page", channels, role=role, escalated=escalated, within=humanize(within))

    def taken(self, person: str, by: str, role: str, channels: list[str] | None = None) -> Notice:
        return self._notice(person, "taken", "taken", channels, taker=by, role=role)

    def reminder(self, person: str, what: str, due_at: datetime) -> Notice:
        return self._notice(person, "reminder", "reminder", what=what, due=_at(due_at))

    def task_assigned(self, person: str, title: str, due_at: datetime, escalated_from: str | None = None) -> Notice:
        handover = text(self.language, "task.handover", previous=escalated_from) if escalated_from else ""
        return self._notice(person, "task", "task", title=title, due=_at(due_at), handover=handover)

    def approval_request(self, person: str, version: int, role: str, statement: str, reminder: bool = False) -> Notice:
        notice = self._notice(person, "approval", "approval", version=version, role=role, text=statement)
        if reminder:
            notice = notice.model_copy(update={"subject": text(self.language, "approval.reminder", subject=notice.subject)})
        return notice.model_copy(update={"version": version})

    def severity_changed(self, person: str, previous: str, by: str, reason: str) -> Notice:
        """The commander re-assessed: ``severity`` is the new one."""
        return self._notice(person, "severity", "severity", previous=previous, by=by, reason=reason)

    def reply_surge(self, person: str, version: int, negative: int, scored: int) -> Notice:
        """Email only: the comms lead decides what to say; the replies are on the incident page."""
        return self._notice(person, "reply_surge", "reply_surge", ["email"], version=version, negative=negative, scored=scored)

    def changes_requested(self, person: str, version: int, by: str, comment: str | None) -> Notice:
        said = f": {comment.rstrip('.')}" if comment else ""
        return self._notice(person, "revision", "revision", version=version, by=by, comment=said)

    def answer_approval_request(
        self, person: str, number: int, answer_id: str, version: int, role: str, question: str, answer: str
    ) -> Notice:
        """Email only: an answer of the team's kit is not urgent enough to text anyone about."""
        notice = self._notice(
            person,
            "answer_approval",
            "answer_approval",
            ["email"],
            answer_id=answer_id,
            version=version,
            role=role,
            question=question,
            text=answer,
        )
        return notice.model_copy(update={"version": number})

    def answer_changes_requested(self, person: str, answer_id: str, version: int, by: str, comment: str | None) -> Notice:
        said = f": {comment.rstrip('.')}" if comment else ""
        return self._notice(
            person, "answer_revision", "answer_revision", ["email"], answer_id=answer_id, version=version, by=by, comment=said
        )

    def internal_approval_request(self, person: str, number: int, name: str, version: int, role: str, message: str) -> Notice:
        """Email only, like an answer: an internal message waits on no public deadline."""
        notice = self._notice(
            person, "internal_approval", "internal_approval", ["email"], name=name, version=version, role=role, text=message
        )
        return notice.model_copy(update={"version": number})

    def internal_changes_requested(self, person: str, name: str, version: int, by: str, comment: str | None) -> Notice:
        said = f": {comment.rstrip('.')}" if comment else ""
        return self._notice(
            person, "internal_revision", "internal_revision", ["email"], name=name, version=version, by=by, comment=said
        )

    def internal_message(self, number: int, name: str, groups: list[str], message: str) -> "InternalDispatch":
        subject = text(self.language, "internal.subject", name=name, title=self.title)
        return InternalDispatch(
            incident_id=self.incident_id,
            number=number,
            subject=f"[DRILL] {subject}" if self.drill else subject,
            body=message,
            groups=groups,
            language=self.language,
            drill=self.drill,
        )

    def review_request(self, person: str, due_at: datetime, reminder: bool = False) -> Notice:
        notice = self._notice(person, "review", "review", due=f"{due_at:%Y-%m-%d %H:%M} UTC")
        if reminder:
            notice = notice.model_copy(update={"subject": text(self.language, "approval.reminder", subject=notice.subject)})
        return notice

    def feedback_request(
        self, people: list[str], groups: list[str], due_at: datetime, reminder: bool = False
    ) -> "FeedbackRequest":
        values = {"incident": self.incident_id, "title": self.title, "due": f"{due_at:%Y-%m-%d %H:%M} UTC"}
        subject = text(self.language, "feedback.subject", **values)
        if reminder:
            subject = text(self.language, "approval.reminder", subject=subject)
        return FeedbackRequest(
            incident_id=self.incident_id,
            people=people,
            groups=groups,
            due_at=due_at,
            subject=f"[DRILL] {subject}" if self.drill else subject,
            body=text(self.language, "feedback.body", **values),
            language=self.language,
            drill=self.drill,
        )


class FeedbackRequest(BaseModel):
    """Ask people for feedback by single-use email link: ``people`` by id, and every member of the
    stakeholder ``groups`` (resolved from the roster at send time, like every contact)."""

    incident_id: str
    people: list[str]
    groups: list[str] = Field(default_factory=list)
    due_at: datetime
    subject: str
    body: str
    language: str = "en"
    drill: bool = False


def internal_mark(language: str, name: str) -> str:
    """The line every internal message opens with: it says who may read it and that it stays inside."""
    return text(language, "internal.mark", name=name)


class InternalDispatch(BaseModel):
    """An approved internal message for its audience's roster groups (email only; never to the
    incident's public subscribers)."""

    incident_id: str
    number: int
    subject: str
    body: str
    groups: list[str]
    language: str = "en"
    drill: bool = False


class Briefing(BaseModel):
    """News for the stakeholder groups and subscribers of an incident (email only)."""

    incident_id: str
    event: str
    subject: str
    body: str
    groups: list[str]
    language: str = "en"
    drill: bool = False


def briefing(say: "Messenger", groups: list[str], event: str, **values: object) -> Briefing:
    values = {"title": say.title, "severity": say.severity, "summary": say.summary, **values}
    # Stakeholders read the internal title and summary: marked as internal, in the subject and the body.
    body = f"{text(say.language, f'stakeholder.{event}', **values)}\n\n{text(say.language, 'stakeholder.internal_note')}"
    subject = f"[{text(say.language, 'stakeholder.internal')}] {text(say.language, 'stakeholder.subject', event=event, **values)}"
    return Briefing(
        incident_id=say.incident_id,
        event=event,
        subject=f"[DRILL] {subject}" if say.drill else subject,
        body=body,
        groups=groups,
        language=say.language,
        drill=say.drill,
    )


def resent(notice: Notice, channel: str) -> Notice:
    """The same notice again on another channel, saying why."""
    note = text(notice.language, "resent.note", channel=channel)
    return notice.model_copy(update={"channels": [channel], "body": f"{notice.body}\n\n{note}"})


def _at(moment: datetime) -> str:
    return f"{moment:%H:%M} UTC"
