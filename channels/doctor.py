"""``crisis doctor``: which channel each kind of message uses, and whether the provider settings
have the right form. Nothing is sent and no provider is called; no secret is ever shown."""

import re
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from channels.registry import Choice, PublishChoice, choices, publishing_choices, sendgrid_configured, twilio_configured

E164 = re.compile(r"^\+[1-9]\d{1,14}$")
ACCOUNT_SID = re.compile(r"^AC[0-9a-fA-F]{32}$")
MESSAGING_SERVICE_SID = re.compile(r"^MG[0-9a-fA-F]{32}$")
AUTH_TOKEN = re.compile(r"^[0-9a-fA-F]{32}$")
SENDGRID_KEY = re.compile(r"^SG\.[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}$")
EMAIL = re.compile(r"^[^@\s<>]+@[^@\s<>]+\.[^@\s<>]+$")
NAMED_EMAIL = re.compile(r"^[^<>]*<([^<>]+)>$")
UNSIGNED_SENDGRID_EVENTS = (
    "SENDGRID_WEBHOOK_PUBLIC_KEY is not set: /webhooks/sendgrid/events refuses every event (403), so bounced "
    "pages are not re-sent by SMS at once; turn on SendGrid's Signed Event Webhook and set its verification key"
)


@dataclass
class Diagnosis:
    channels: list[Choice]
    errors: list[str] = field(default_factory=list)  # malformed or incomplete: exit non-zero
    warnings: list[str] = field(default_factory=list)  # works, but probably not what is wanted
    publishing: list[PublishChoice] = field(default_factory=list)  # where published statements go, by target name

    @property
    def ok(self) -> bool:
        return not self.errors


def _value(raw) -> str:
    if raw is None:
        return ""
    if hasattr(raw, "get_secret_value"):
        raw = raw.get_secret_value()
    return str(raw).strip()


def _url_problem(value: str) -> str | None:
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return "is not an absolute http(s) URL"
    if parts.query or parts.fragment:
        return "must not have a query or a fragment"
    return None


def _shown(url: str) -> str:
    """A URL fit to print: without any user:password@ in it."""
    parts = urlsplit(url)
    if parts.username or parts.password:
        return parts._replace(netloc=(parts.hostname or "") + (f":{parts.port}" if parts.port else "")).geturl()
    return url


def _is_local(host: str | None) -> bool:
    return host in (None, "localhost") or (host or "").startswith("127.") or host in ("::1", "0.0.0.0")


def webhook_warnings(settings) -> list[str]:
    """What the API says at start-up and `crisis readiness` repeats: provider webhooks that cannot work."""
    if sendgrid_configured(settings) and not _value(settings.sendgrid_webhook_public_key):
        return [UNSIGNED_SENDGRID_EVENTS]
    return []


def diagnose(settings) -> Diagnosis:
    diagnosis = Diagnosis(channels=choices(settings))
    errors, warnings = diagnosis.errors, diagnosis.warnings

    public = settings.public_url
    public_problem = _url_problem(public)
    if public_problem:
        errors.append(f"CRISIS_PUBLIC_URL {_shown(public)!r} {public_problem}: links in messages and provider webhooks need it")
    elif "_" in (urlsplit(public).hostname or ""):
        errors.append(f"CRISIS_PUBLIC_URL {_shown(public)!r}: Twilio refuses callback URLs whose host has an underscore")

    # Twilio
    sid, token = _value(settings.twilio_account_sid), _value(settings.twilio_auth_token)
    sender, service = _value(settings.twilio_from_number), _value(settings.twilio_messaging_service_sid)
    if sid and not ACCOUNT_SID.match(sid):
        errors.append("TWILIO_ACCOUNT_SID is not AC followed by 32 hex digits")
    if token and not AUTH_TOKEN.match(token):
        errors.append("TWILIO_AUTH_TOKEN is not 32 hex digits (the value is not shown)")
    if sender and not E164.match(sender):
        errors.append(f"TWILIO_FROM_NUMBER {sender!r} is not an E.164 number (like +48601234567)")
    if service and not MESSAGING_SERVICE_SID.match(service):
        errors.append(f"TWILIO_MESSAGING_SERVICE_SID {service!r} is not MG followed by 32 hex digits")
    if sender and service:
        warnings.append("both TWILIO_FROM_NUMBER and TWILIO_MESSAGING_SERVICE_SID are set: the messaging service is the sender")
    twilio_any = any((sid, token, sender, service))
    if twilio_any and not twilio_configured(settings):
        missing = [name for name, value in (("TWILIO_ACCOUNT_SID", sid), ("TWILIO_AUTH_TOKEN", token)) if not value]
        if not (sender or service):
            missing.append("TWILIO_FROM_NUMBER or TWILIO_MESSAGING_SERVICE_SID")
        errors.append(f"Twilio is partly configured, so SMS go to the outbox: missing {', '.join(missing)}")
    api_url = _value(settings.twilio_api_url)
    if api_url and (api_problem := _url_problem(api_url)):
        errors.append(f"TWILIO_API_URL {_shown(api_url)!r} {api_problem}")
    elif api_url:
        warnings.append(f"TWILIO_API_URL: SMS go to {_shown(api_url)}, not to api.twilio.com")
    if twilio_configured(settings) and not public_problem and _is_local(urlsplit(public).hostname):
        warnings.append(f"CRISIS_PUBLIC_URL {_shown(public)} is local: Twilio cannot reach the status callback or SMS replies")

    # SendGrid
    key, sender_email = _value(settings.sendgrid_api_key), _value(settings.sendgrid_from_email)
    if key and not SENDGRID_KEY.match(key):
        errors.append("SENDGRID_API_KEY does not have the form SG.<id>.<secret> (the value is not shown)")
    if sender_email:
        named = NAMED_EMAIL.match(sender_email)
        if not EMAIL.match(named.group(1).strip() if named else sender_email):
            errors.append(f"SENDGRID_FROM_EMAIL {sender_email!r} is not an email address")
    if (key or sender_email) and not sendgrid_configured(settings):
        missing = "SENDGRID_API_KEY" if not key else "SENDGRID_FROM_EMAIL"
        errors.append(f"SendGrid is partly configured, so email goes to the outbox: missing {missing}")
    public_key = _value(settings.sendgrid_webhook_public_key)
    if public_key:
        try:
            from sendgrid.helpers.eventwebhook import EventWebhook

            EventWebhook(public_key)
        except Exception:
            errors.append("SENDGRID_WEBHOOK_PUBLIC_KEY is not a base64 EC public key (copy the verification key from SendGrid)")
    elif sendgrid_configured(settings):
        warnings.append(UNSIGNED_SENDGRID_EVENTS)
    sg_url = _value(settings.sendgrid_api_url)
    if sg_url and (sg_problem := _url_problem(sg_url)):
        errors.append(f"SENDGRID_API_URL {_shown(sg_url)!r} {sg_problem}")
    elif sg_url:
        warnings.append(f"SENDGRID_API_URL: email goes to {_shown(sg_url)}, not to api.sendgrid.com")
    _diagnose_publishing(settings, diagnosis)
    return diagnosis


def _diagnose_publishing(settings, diagnosis: Diagnosis) -> None:
    """CRISIS_PUBLISH_WEBHOOKS (absolute http(s) URLs, non-empty secrets) and CRISIS_CUSTOMER_LIST_EMAIL."""
    errors, warnings = diagnosis.errors, diagnosis.warnings
    diagnosis.publishing = publishing_choices(settings)
    for choice in diagnosis.publishing:
        if choice.problem is not None:
            errors.append(f"CRISIS_PUBLISH_WEBHOOKS target {choice.target!r}: {choice.problem} (the target is left out)")
    for name, target in sorted(settings.publish_webhooks.items()):
        parts = urlsplit(target.url.strip())
        secret = target.secret.get_secret_value().strip()
        if parts.scheme == "http" and parts.hostname and not _is_local(parts.hostname):
            warnings.append(
                f"CRISIS_PUBLISH_WEBHOOKS target {name!r} is plain http: statements and signatures travel unencrypted"
            )
        if parts.username or parts.password:
            warnings.append(f"CRISIS_PUBLISH_WEBHOOKS target {name!r}: the URL carries user:password (it is not shown)")
        if secret and len(secret) < 16:
            warnings.append(
                f"CRISIS_PUBLISH_WEBHOOKS target {name!r}: the secret is shorter than 16 characters (the value is not shown)"
            )
    address = _value(settings.customer_list_email)
    if address and not EMAIL.match(address):
        errors.append(f"CRISIS_CUSTOMER_LIST_EMAIL {address!r} is not an email address")
    elif address and not sendgrid_configured(settings):
        warnings.append(
            "CRISIS_CUSTOMER_LIST_EMAIL is set but SendGrid is not configured: customer_email statements go to the outbox"
        )
