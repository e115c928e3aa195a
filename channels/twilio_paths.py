"""The paths Twilio calls back on, apart from the SDK's channels so that a worker without Twilio
configured (the outbox) names them without importing the ``twilio`` SDK and ``requests``."""

STATUS_CALLBACK_PATH = "/webhooks/twilio/status"
CALL_STATUS_PATH = "/webhooks/twilio/call/status"
