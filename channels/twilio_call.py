"""Phone calls through Twilio's Calls API (the official ``twilio`` SDK): a page read aloud, and a
key press to acknowledge it.

The call is placed with synchronous answering-machine detection and a ``Url`` that carries the
words to say and the incident's language in its query (Twilio signs the whole URL, so nobody can
change them on the way back). When the call is answered Twilio asks that URL what to do, saying
who answered (``AnsweredBy``); the answer is TwiML (``call_twiml``): a voicemail or fax hears
nothing and the call hangs up, a person hears the page in a ``<Gather>`` of one key. The key goes
to the gather webhook (api/calls.py), where 1 acknowledges through the same Update as every other
acknowledgement. The page's action-link token, minted for the call like for any page, is found
from the call's SID through the notification ledger, so no credential travels in a URL.
"""

import logging
from urllib.parse import urlencode

import requests
from twilio.base.exceptions import TwilioRestException, TwilioServiceException
from twilio.twiml.voice_response import VoiceResponse

from channels.base import DEFAULT_CONCURRENCY, Delivery, OutgoingMessage, PermanentDeliveryError, SdkThreads
from channels.twilio_paths import CALL_STATUS_PATH
from channels.twilio_sms import DEFAULT_TIMEOUT, refusal, twilio_client
from domain.messages import text

log = logging.getLogger("crisisflow.twilio")

VOICE_PATH = "/webhooks/twilio/call/voice"
GATHER_PATH = "/webhooks/twilio/call/gather"
RING_FOR = 30  # seconds the phone rings before Twilio gives up (no-answer)
KEY_WAIT = 10  # seconds Twilio waits for a key once the page has been read
MAX_SAY = 1000  # characters read aloud; a page is a sentence or two
ACKNOWLEDGE_KEY = "1"
# How <Say> pronounces each incident language.
VOICES = {"en": "en-US", "pl": "pl-PL"}


def machine_answered(answered_by: str | None) -> bool:
    """Twilio's AnsweredBy names a voicemail (machine_start, machine_end_beep…) or a fax: nobody heard the page."""
    value = (answered_by or "").strip().lower()
    return value.startswith("machine") or value == "fax"


def voice_url(public_url: str, say: str, language: str) -> str:
    return f"{public_url.rstrip('/')}{VOICE_PATH}?{urlencode({'language': language, 'say': say[:MAX_SAY]})}"


def call_twiml(public_url: str, say: str, language: str, answered_by: str | None) -> str:
    """What Twilio does once the call is answered: read the page twice inside a one-key Gather,
    then say that the escalation goes on; hang up at once on a voicemail or fax."""
    response = VoiceResponse()
    if machine_answered(answered_by):
        response.hangup()
        return str(response)
    voice = VOICES.get(language, VOICES["en"])
    action = f"{public_url.rstrip('/')}{GATHER_PATH}?{urlencode({'language': language})}"
    gather = response.gather(input="dtmf", num_digits=1, timeout=KEY_WAIT, action=action, method="POST")
    gather.say(say, language=voice)
    gather.pause(length=1)
    gather.say(say, language=voice)
    response.say(text(language, "call.no_key"), language=voice)
    response.hangup()
    return str(response)


def spoken(language: str, message: str) -> str:
    """The TwiML reply to a key press: one sentence, then hang up."""
    response = VoiceResponse()
    response.say(message, language=VOICES.get(language, VOICES["en"]))
    response.hangup()
    return str(response)


class TwilioCallChannel:
    """Places the call; the message's ``body`` is what is read aloud, in its ``language``."""

    name = "twilio_call"

    def __init__(
        self,
        account_sid: str,
        auth_token: str,
        *,
        from_number: str,
        public_url: str,
        api_url: str | None = None,
        timeout: float = DEFAULT_TIMEOUT,
        concurrency: int = DEFAULT_CONCURRENCY,
    ):
        if not from_number:
            raise ValueError("Twilio calls need a caller id: TWILIO_FROM_NUMBER")
        self._threads = SdkThreads("twilio-call", concurrency)
        self._client = twilio_client(account_sid, auth_token, api_url=api_url, timeout=timeout, concurrency=concurrency)
        self._from_number = from_number
        self._public_url = public_url.rstrip("/")

    def _create(self, message: OutgoingMessage):
        return self._client.calls.create(
            to=message.address,
            from_=self._from_number,
            url=voice_url(self._public_url, message.body, message.language),
            method="POST",
            status_callback=f"{self._public_url}{CALL_STATUS_PATH}",  # Twilio's default event: completed only
            status_callback_method="POST",
            machine_detection="Enable",
            timeout=RING_FOR,
        )

    async def send(self, message: OutgoingMessage) -> Delivery:
        if not message.address:
            raise PermanentDeliveryError("no phone number to call")
        try:
            created = await self._threads.run(self._create, message)
        except (TwilioRestException, TwilioServiceException, requests.RequestException) as error:
            raise refusal(error) from None
        log.info("call %s placed by Twilio as %s", message.ledger_key, created.sid)
        return Delivery(channel=self.name, accepted=True, provider_id=created.sid)
