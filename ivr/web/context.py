"""What the console's routers share: the store, the phone system, the tables, a clock."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path

from argon2 import PasswordHasher
from fastapi.templating import Jinja2Templates

from ivr.adapters.ami import AmiClient
from ivr.adapters.threeway import ThreeWayCalls
from ivr.domain.clock import Clock
from ivr.routing.publish import Site
from ivr.routing.tables import RoutingTables
from ivr.routing.view import RoutingView, build_view
from ivr.store import CaseStore
from ivr.store.users import DEFAULT_HASHER, UserStore
from ivr.web.hub import PopHub

WEB_DIR = Path(__file__).resolve().parent
TEMPLATES_DIR = WEB_DIR / "templates"
STATIC_DIR = WEB_DIR / "static"


@dataclass
class Console:
    """The composition root hands one of these to `create_app`."""

    store: CaseStore
    tables: Callable[[], RoutingTables]
    clock: Clock
    # The view calls use (block list, calendars); built from `tables` when not given.
    view: Callable[[], RoutingView] | None = None
    # None: no phone system (a console run without the engine); state changes refuse.
    ami: AmiClient | None = None
    # Rings an officer's phone, then the citizen: (ticket number, extension) -> dialstatus.
    callback: Callable[[str, str], Awaitable[str]] | None = None
    hub: PopHub = field(default_factory=PopHub)
    # Seconds between an open event stream's looks at its session (expiry, disabled user).
    session_check_s: float = 15.0
    # Where routing versions are published (issue 17); None: the routing pages refuse.
    routing_site: Site | None = None
    # The emergency three-way call's hands (ARI bridges); None: the action refuses.
    threeway: ThreeWayCalls | None = None
    # How the passwords of users added here are hashed.
    password_hasher: PasswordHasher = DEFAULT_HASHER
    users: UserStore = field(init=False)
    templates: Jinja2Templates = field(init=False)

    def __post_init__(self) -> None:
        self.users = UserStore(self.store, self.password_hasher)
        self.templates = Jinja2Templates(directory=str(TEMPLATES_DIR))

    def routing_view(self) -> RoutingView:
        return self.view() if self.view is not None else build_view(self.tables())
