"""Every channel-variable name shared between `dialplans/` and the engine.

The dialplan and the engine meet only through these names; nothing else in the
package spells them out. A contract test reads `dialplans/` and checks that every
`${HOTLINE_...}` it uses is listed here.
"""

from typing import Final

# Set by the engine on every AGI session it finishes: SUCCESS when the handler
# returned, FAILURE when it raised. The dialplan clears it before each AGI call and
# treats anything but SUCCESS (including "engine unreachable") as a failure.
AGI_OUTCOME: Final = "HOTLINE_AGI_OUTCOME"
# Short machine-readable reason set alongside a FAILURE outcome.
AGI_ERROR: Final = "HOTLINE_AGI_ERROR"
# What the hotline handler decided the dialplan should do next (see NEXT_* below).
NEXT: Final = "HOTLINE_NEXT"
# Why the dialplan fell back, recorded in the channel for the fallback context.
FALLBACK_REASON: Final = "HOTLINE_FALLBACK_REASON"
# The engine's case-store id for the call, for later AGI steps of the same call.
CALL_ID: Final = "HOTLINE_CALL_ID"

# Globals rendered into extensions.conf: where the engine and the prompts are.
AGI_URL: Final = "HOTLINE_AGI_URL"
SOUNDS: Final = "HOTLINE_SOUNDS"
# The engine's ARI application, for [hotline-threeway]'s Stasis().
ARI_APP: Final = "HOTLINE_ARI_APP"
# The caller half of `ivr call` test calls (context hotline-test-caller).
TEST_WAIT: Final = "HOTLINE_TEST_WAIT"
TEST_DTMF: Final = "HOTLINE_TEST_DTMF"
TEST_HOLD: Final = "HOTLINE_TEST_HOLD"

# Digits an agent keys after the transfer feature code (8).
TRANSFER_CODE: Final = "HOTLINE_TRANSFER_CODE"

# Click-to-callback (context hotline-callback).
CALLBACK_DIAL: Final = "HOTLINE_CALLBACK_DIAL"
CALLBACK_TICKET: Final = "HOTLINE_CALLBACK_TICKET"
# Queued callbacks (contexts hotline-qcb-queue and hotline-qcb-citizen).
QCB_QUEUE: Final = "HOTLINE_QCB_QUEUE"
QCB_POSITION: Final = "HOTLINE_QCB_POSITION"
QCB_WAIT: Final = "HOTLINE_QCB_WAIT"
QCB_DISPLAY: Final = "HOTLINE_QCB_DISPLAY"
QCB_DIAL: Final = "HOTLINE_QCB_DIAL"
QCB_RING: Final = "HOTLINE_QCB_RING"
QCB_KEY: Final = "HOTLINE_QCB_KEY"
# Agents' in-call features. Queue's b() option runs this pre-dial handler on each
# agent's channel, which sets DYNAMIC_FEATURES there: the citizen's leg never gets
# the transfer key (Asterisk does not enforce the feature's `callee` restriction).
AGENT_LEG_GOSUB: Final = "hotline-agent-leg^s^1"
AGENT_TRANSFER_FEATURE: Final = "hotline_transfer"
# A queue's whisper: the caller's channel holds the prompt's name (the "_" prefix:
# the answering agent's channel inherits it), played by [hotline-agent-whisper].
WHISPER: Final = "HOTLINE_WHISPER"
# The call cap (issue 18). Set by the engine on the caller's channel with one leading
# underscore before Queue()/Dial(), so the agent's (or unit line's) channel inherits
# them: the caller's uniqueid, and when Asterisk ends that leg itself (seconds after
# the answer) should the engine not end it at the cap.
CAP_CALLER: Final = "HOTLINE_CAP_CALLER"
CAP_HARD_S: Final = "HOTLINE_CAP_HARD_S"
# Run on that channel once it answered, before the bridge (Queue's gosub argument,
# Dial's U()): it sends the engine the HotlineConnected UserEvent and sets the limit.
CONVERSATION_CONTEXT: Final = "hotline-conversation"
CONNECTED_EVENT: Final = "HotlineConnected"
# Queue's gosub argument: the whisper (if any), then [hotline-conversation].
AGENT_ANSWERED_CONTEXT: Final = "hotline-agent-answered"
# A sign-language video call's negotiated video codec (vp8, h264), set by the engine
# with the "_" prefix so the agent's leg inherits it; the pre-dial handler offers the
# agent's phone that codec only (PJSIP_MEDIA_OFFER): Asterisk cannot transcode video,
# and a phone that chose another offered codec would get no picture.
VIDEO_OFFER: Final = "HOTLINE_VIDEO_OFFER"

# Values of NEXT.
NEXT_HANGUP: Final = "hangup"
NEXT_QUEUE: Final = "queue"

# Values of AGI_OUTCOME.
OUTCOME_SUCCESS: Final = "SUCCESS"
OUTCOME_FAILURE: Final = "FAILURE"

ALL: Final = frozenset(
    {
        AGI_OUTCOME,
        AGI_ERROR,
        NEXT,
        FALLBACK_REASON,
        CALL_ID,
        AGI_URL,
        SOUNDS,
        ARI_APP,
        TEST_WAIT,
        TEST_DTMF,
        TEST_HOLD,
        TRANSFER_CODE,
        CALLBACK_DIAL,
        CALLBACK_TICKET,
        WHISPER,
        CAP_CALLER,
        CAP_HARD_S,
        QCB_QUEUE,
        QCB_POSITION,
        QCB_WAIT,
        QCB_DISPLAY,
        QCB_DIAL,
        QCB_RING,
        QCB_KEY,
        VIDEO_OFFER,
    }
)
