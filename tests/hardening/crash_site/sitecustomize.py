"""Test instrumentation for test_security.py: make rendering crash with a value in the exception message.

The CLI must print only the exception type (and, in debug mode, code locations), never the message.
"""

import enkryptify_action.formats as formats


def _crash(plan):
    raise RuntimeError("boom: " + "; ".join(item.value for item in plan.items))


formats.render_dotenv = _crash
