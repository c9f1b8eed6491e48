"""The `ivr` command: run the stack, place test calls, read the case store."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import sys
import time
import uuid
from collections.abc import Sequence
from dataclasses import asdict, replace
from pathlib import Path
from typing import Any

from ivr import config as stack_config
from ivr import logging as ivr_logging
from ivr import prompts
from ivr.asterisk import install, process, render
from ivr.cli_types import positive
from ivr.config import ConfigError, Ports, StackConfig
from ivr.domain.vocabulary import TicketStatus, values
from ivr.routing.loader import RoutingError

EXIT_OK = 0
EXIT_FAIL = 1


def main(argv: Sequence[str] | None = None) -> int:
    # Whatever the engine or the CLI writes (case store, logs, spool, recordings)
    # holds personal data or secrets: owner-only, whatever the caller's umask.
    os.umask(0o077)
    parser = _parser()
    args = parser.parse_args(argv)
    ivr_logging.configure(level=args.log_level)
    try:
        result: int = args.func(args)
    except (
        ConfigError,
        install.InstallError,
        process.AsteriskError,
        prompts.PromptError,
        render.RenderError,
    ) as exc:
        print(f"ivr: {exc}", file=sys.stderr)
        return EXIT_FAIL
    except RoutingError as exc:
        # A table refused with file, field and reason is an answer, not a crash trace.
        for problem in exc.problems:
            print(problem, file=sys.stderr)
        print(f"ivr: {len(exc.problems)} problem(s) in the routing tables", file=sys.stderr)
        return EXIT_FAIL
    except KeyboardInterrupt:
        return EXIT_FAIL
    return result


def _parser() -> argparse.ArgumentParser:  # noqa: PLR0915 - one flat table of commands
    p = argparse.ArgumentParser(prog="ivr", description=__doc__)
    p.add_argument(
        "--state-dir",
        help=f"the stack's state directory (default ${stack_config.STATE_DIR_ENV} "
        f"or {stack_config.DEFAULT_STATE_DIR})",
    )
    p.add_argument("--log-level", default="INFO")
    sub = p.add_subparsers(dest="command", required=True)

    init = sub.add_parser("init", help="create or update the stack's state directory")
    _port_args(init)
    init.set_defaults(func=cmd_init)

    ast = sub.add_parser("asterisk", help="install, configure, start or stop Asterisk")
    ast.add_argument("action", choices=["install", "config", "start", "stop", "status"])
    ast.set_defaults(func=cmd_asterisk)

    pr = sub.add_parser("prompts", help="voice prompts")
    pr.add_argument("action", choices=["build"])
    pr.add_argument("--force", action="store_true", help="rebuild even up-to-date files")
    pr.set_defaults(func=cmd_prompts)

    serve = sub.add_parser("serve", help="run the engine (FastAGI, AMI, ARI, store)")
    serve.set_defaults(func=cmd_serve)

    run = sub.add_parser("run", help="install what is missing, start Asterisk and the engine")
    _port_args(run)
    run.set_defaults(func=cmd_run)

    sv = sub.add_parser(
        "supervise", help="run the engine and keep it (and Asterisk) up: restarts, watchdog"
    )
    sv.add_argument(
        "--no-asterisk", action="store_true", help="leave restarting Asterisk to systemd"
    )
    sv.set_defaults(func=cmd_supervise)

    st = sub.add_parser("status", help="health of Asterisk, AMI, ARI, FastAGI and the store")
    st.add_argument("--json", action="store_true")
    st.set_defaults(func=cmd_status)

    call = sub.add_parser("call", help="place a real test call through Asterisk (Local channel)")
    call.add_argument("number", help="the number to call, e.g. 1999")
    call.add_argument("--dtmf", default="", help="digits the caller presses")
    call.add_argument("--caller", default="0912345678", help="caller number")
    call.add_argument("--wait", type=float, default=1.0, help="seconds before the digits")
    call.add_argument("--hold", type=float, default=4.0, help="seconds on the line after them")
    call.add_argument("--json", action="store_true")
    call.set_defaults(func=cmd_call)

    ph = sub.add_parser("phones", help="provisioning details for one agent's SIP phone")
    ph.add_argument("extension", help="the agent's extension, e.g. 7001")
    ph.add_argument(
        "--new-secret",
        action="store_true",
        help="generate a strong secret into the stack's secrets file (0600) first",
    )
    ph.add_argument("--json", action="store_true")
    ph.set_defaults(func=cmd_phones)

    calls = sub.add_parser("calls", help="read calls from the case store")
    csub = calls.add_subparsers(dest="calls_command", required=True)
    cl = csub.add_parser("list")
    cl.add_argument("--limit", type=positive, default=20)
    cl.add_argument("--json", action="store_true")
    _unmask_args(cl)
    cl.set_defaults(func=cmd_calls_list)
    cs = csub.add_parser("show")
    cs.add_argument("id", type=positive)
    cs.add_argument("--json", action="store_true")
    _unmask_args(cs)
    cs.set_defaults(func=cmd_calls_show)

    routing = sub.add_parser("routing", help="check or reload the routing tables")
    rsub = routing.add_subparsers(dest="routing_command", required=True)
    rc = rsub.add_parser("check", help="validate a profile: references, prompts, minimums")
    rc.add_argument("dir", nargs="?", help="profile directory (default: the stack's)")
    rc.set_defaults(func=cmd_routing_check)
    rr = rsub.add_parser("reload", help="validate, then swap the running table atomically")
    rr.set_defaults(func=cmd_routing_reload)

    mode = sub.add_parser("mode", help="service mode: disaster mode on or off")
    mode.add_argument("mode", choices=["disaster", "show"])
    mode.add_argument("state", nargs="?", choices=["on", "off"])
    admin = os.environ.get("SUDO_USER") or os.environ.get("USER", "admin")
    mode.add_argument("--by", default=admin, help="who switched the mode (audit trail)")
    mode.add_argument("--note", default=None)
    mode.set_defaults(func=cmd_mode)

    cal = sub.add_parser("calendar", help="working calendar: show it, close typhoon days")
    calsub = cal.add_subparsers(dest="calendar_command", required=True)
    cc = calsub.add_parser("close", help="declare a day closed (typhoon day), audited")
    cc.add_argument("date", help="YYYY-MM-DD, in the profile's time zone")
    cc.add_argument("--reason", required=True, help="why, e.g. typhoon")
    cc.add_argument("--from", dest="closes_at", help="HH:MM: closed from then on (default all day)")
    cc.add_argument("--by", default=admin, help="who declared it (audit trail)")
    cc.add_argument("--note", default=None)
    co = calsub.add_parser("open", help="lift a day's closure, audited")
    co.add_argument("date", help="YYYY-MM-DD")
    co.add_argument("--by", default=admin, help="who lifted it (audit trail)")
    co.add_argument("--note", default=None)
    cw = calsub.add_parser("show", help="each day's working time and why")
    cw.add_argument("--from", dest="start", help="first day, YYYY-MM-DD (default today)")
    cw.add_argument("--days", type=int, default=14)
    cw.add_argument("--dir", help="a profile directory instead of the stack's (no closures)")
    cal.set_defaults(func=cmd_calendar)

    db = sub.add_parser("db", help="case-store maintenance")
    db.add_argument("action", choices=["upgrade"])
    db.set_defaults(func=cmd_db)

    tickets = sub.add_parser("tickets", help="callback tickets: list, show, assign, note, close")
    tsub = tickets.add_subparsers(dest="tickets_command", required=True)
    tl = tsub.add_parser("list", help="tickets by due time, soonest first")
    tl.add_argument("--status", choices=values(TicketStatus))
    tl.add_argument("--unit", help="unit id, e.g. new-construction")
    tl.add_argument("--agency", help="agency id, e.g. pwd (hotline: the call centre's own)")
    tl.add_argument("--overdue", action="store_true", help="only tickets flagged overdue")
    tl.add_argument("--limit", type=positive, default=100)
    tl.add_argument("--json", action="store_true")
    _unmask_args(tl)
    tl.set_defaults(func=cmd_tickets_list)
    ts = tsub.add_parser("show", help="a ticket with its attempts, notes and events")
    ts.add_argument("ticket", metavar="NUMBER_OR_ID")
    ts.add_argument("--json", action="store_true")
    _unmask_args(ts)
    ts.set_defaults(func=cmd_tickets_show)
    ta = tsub.add_parser("assign", help="give a ticket to a case officer")
    ta.add_argument("ticket", metavar="NUMBER")
    ta.add_argument("assignee")
    ta.add_argument("--by", default=admin, help="who made the change (audit trail)")
    ta.set_defaults(func=cmd_tickets_assign)
    tn = tsub.add_parser("note", help="add a note to a ticket")
    tn.add_argument("ticket", metavar="NUMBER")
    tn.add_argument("text")
    tn.add_argument("--by", default=admin, help="the note's author")
    tn.set_defaults(func=cmd_tickets_note)
    tt = tsub.add_parser("status", help="move a ticket along open → in_progress → called_back")
    tt.add_argument("ticket", metavar="NUMBER")
    # Any status but open: no ticket moves back to open.
    tt.add_argument("status", choices=[s for s in values(TicketStatus) if s != TicketStatus.OPEN])
    tt.add_argument("--outcome", default=None, help="what came of the callback")
    tt.add_argument("--by", default=admin, help="who made the change (audit trail)")
    tt.set_defaults(func=cmd_tickets_status)
    tc = tsub.add_parser("close", help="close a ticket with its outcome")
    tc.add_argument("ticket", metavar="NUMBER")
    tc.add_argument("--outcome", required=True, help="what came of the callback")
    tc.add_argument("--by", default=admin, help="who made the change (audit trail)")
    tc.set_defaults(func=cmd_tickets_close)
    tb = tsub.add_parser("callback", help="click-to-callback: ring the officer, then the citizen")
    tb.add_argument("ticket", metavar="NUMBER")
    tb.add_argument("--from", dest="officer", required=True, help="the officer's extension")
    tb.set_defaults(func=cmd_tickets_callback)

    xfer = sub.add_parser("transfer", help="send a live call into the transfer engine")
    xfer.add_argument("channel", help="the caller's channel, e.g. PJSIP/carrier-00000012")
    xfer.add_argument("unit", help="unit id, dial code or extension")
    xfer.set_defaults(func=cmd_transfer)

    report = sub.add_parser("report", help="monthly management reports (DOMAIN 8)")
    rsub2 = report.add_subparsers(dest="report_command", required=True)
    rt = rsub2.add_parser("transfers", help="transfers and callbacks per agency and unit")
    rt.add_argument("--month", required=True, help="YYYY-MM, in Asia/Taipei time")
    rt.add_argument("--csv", type=Path, default=None, help="also write the rows as CSV")
    rt.add_argument("--json", type=Path, default=None, help="also write the report as JSON")
    rt.set_defaults(func=cmd_report_transfers)
    from ivr.queues_cli import register as register_queue_report

    register_queue_report(rsub2, _load)

    from ivr.privacy_cli import add_commands

    add_commands(sub, _load)
    return p


def _unmask_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--unmask", action="store_true", help="show caller numbers in clear (audited)")
    p.add_argument("--reason", default=None, help="why the data is needed in clear (required)")


def cmd_tickets_callback(args: argparse.Namespace) -> int:
    from ivr.control import ControlError, click_to_callback

    try:
        result = asyncio.run(click_to_callback(_load(args), args.ticket, args.officer))
    except ControlError as exc:
        print(f"ivr: {exc}", file=sys.stderr)
        return EXIT_FAIL
    print(f"ticket {result.ticket}: callback attempt {result.attempt}: {result.dialstatus}")
    return EXIT_OK if result.dialstatus == "ANSWER" else EXIT_FAIL


def cmd_transfer(args: argparse.Namespace) -> int:
    from ivr.adapters.ami import AmiActionFailed, AmiUnavailable
    from ivr.control import ControlError, transfer

    try:
        code = asyncio.run(transfer(_load(args), args.channel, args.unit))
    except (ControlError, AmiActionFailed, AmiUnavailable) as exc:
        print(f"ivr: {exc}", file=sys.stderr)
        return EXIT_FAIL
    print(f"{args.channel} sent to the transfer engine for {args.unit} ({code})")
    return EXIT_OK


# Flag name -> Ports field. A flag not given keeps the stored value (or the default
# on a new stack): `ivr run` must not move a stack that `ivr init` put on other ports.
_PORT_FLAGS = {
    "sip_port": "sip",
    "ami_port": "ami",
    "http_port": "http",
    "agi_port": "agi",
    "rtp_start": "rtp_start",
    "rtp_end": "rtp_end",
}


def _port_args(p: argparse.ArgumentParser) -> None:
    d = Ports()
    for flag, name in _PORT_FLAGS.items():
        p.add_argument(
            f"--{flag.replace('_', '-')}",
            type=int,
            default=None,
            help=f"default: the stack's stored value, or {getattr(d, name)} on a new stack",
        )
    p.add_argument("--database-url", default=None, help="default: SQLite in the state dir")
    p.add_argument(
        "--sip-bind", default=None, help="SIP's address (default 127.0.0.1); AMI, ARI stay local"
    )
    p.add_argument(
        "--profile", default=None, help="routing profile: taipei (default), kinmen, or a path"
    )


def _state_dir(args: argparse.Namespace) -> Path:
    return stack_config.resolve_state_dir(args.state_dir)


def _load(args: argparse.Namespace) -> StackConfig:
    return stack_config.load(_state_dir(args))


def _ports(args: argparse.Namespace) -> Ports:
    """The stored ports (or the defaults), with the flags given on this command line."""
    try:
        ports = _load(args).ports
    except ConfigError:
        ports = Ports()
    given = {
        name: getattr(args, flag)
        for flag, name in _PORT_FLAGS.items()
        if getattr(args, flag) is not None
    }
    return replace(ports, **given)


def cmd_init(args: argparse.Namespace) -> int:
    cfg = stack_config.init(
        _state_dir(args), _ports(args), args.database_url, args.profile, sip_bind=args.sip_bind
    )
    print(f"stack ready in {cfg.state_dir}")
    return EXIT_OK


def cmd_asterisk(args: argparse.Namespace) -> int:
    if args.action == "install":
        runtime = install.ensure()
        print(f"asterisk: {runtime.describe()}")
        return EXIT_OK
    cfg = _load(args)
    if args.action == "config":
        for path in render_all(cfg):
            print(path)
        return EXIT_OK
    if args.action == "status":
        st = process.status(cfg, install.find())
        print(f"asterisk: {'running' if st.running else 'down'} ({st.detail})")
        return EXIT_OK if st.running else EXIT_FAIL
    runtime = install.ensure()
    if args.action == "start":
        render_all(cfg)
        pid = process.start(cfg, runtime)
        print(f"asterisk running, pid {pid}")
    else:
        stopped = process.stop(cfg, runtime)
        print("asterisk stopped" if stopped else "asterisk was not running")
    return EXIT_OK


def render_all(cfg: StackConfig) -> list[Path]:
    from ivr.asterisk.generate import render_stack

    return render_stack(cfg)


def _routing_problems(
    directory: Path,
    recordings_dir: Path,
    warnings: list[Any] | None = None,
    state_dir: Path | None = None,
) -> list[Any]:
    from ivr.domain.clock import system_clock
    from ivr.routing.agent_secrets import resolve
    from ivr.routing.check import check
    from ivr.routing.coverage import calendar_coverage
    from ivr.routing.engine_prompts import engine_prompt_problems
    from ivr.routing.loader import load_profile

    catalogue = prompts.load_catalogue(recordings_dir)
    available = prompts.buildable(recordings_dir, catalogue)
    try:
        tables = load_profile(directory, catalogue=catalogue)
    except RoutingError as exc:
        return list(exc.problems)
    refusals, warned = calendar_coverage(tables, system_clock())
    if warnings is not None:
        warnings += warned
    # With a stack, every agent's phone must also have a usable secret for its config.
    secrets = resolve(tables, state_dir)[1] if state_dir is not None else []
    if state_dir is not None:  # and every trunk that authenticates, its password
        from ivr.routing import trunk_secrets

        secrets += trunk_secrets.resolve(tables, state_dir)[1]
    return [
        *check(tables, catalogue, available),
        *engine_prompt_problems(tables, available),
        *refusals,
        *secrets,
    ]


def cmd_routing_check(args: argparse.Namespace) -> int:
    repo = Path(__file__).resolve().parent.parent
    directory = Path(args.dir) if args.dir else _load(args).routing_dir
    warnings: list[Any] = []
    problems = _routing_problems(directory, repo / "recordings", warnings)
    for warning in warnings:
        print(f"warning: {warning}", file=sys.stderr)
    for problem in problems:
        print(problem, file=sys.stderr)
    if problems:
        print(
            f"ivr: {directory}: {len(problems)} problem(s); the table is refused", file=sys.stderr
        )
        return EXIT_FAIL
    print(f"{directory}: ok")
    return EXIT_OK


def cmd_routing_reload(args: argparse.Namespace) -> int:
    cfg = _load(args)
    problems = _routing_problems(cfg.routing_dir, cfg.recordings_dir, state_dir=cfg.state_dir)
    for problem in problems:
        print(problem, file=sys.stderr)
    if problems:
        print("ivr: reload refused; the running table keeps serving", file=sys.stderr)
        return EXIT_FAIL
    # Asterisk first: the engine's new tables may name endpoints and queues that only
    # the regenerated config defines.
    if not _apply_asterisk(cfg):
        return EXIT_FAIL
    engine = _engine_info(cfg)
    if engine is None:
        print("ivr: the engine is not running; the tables will load when it starts")
        return EXIT_FAIL
    before = engine.get("routing_version", 0)
    os.kill(int(engine["pid"]), signal.SIGHUP)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        info = _engine_info(cfg) or {}
        if info.get("routing_version", 0) > before:
            print(f"routing tables reloaded (version {info['routing_version']})")
            return EXIT_OK
        time.sleep(0.1)
    print(
        f"ivr: the engine did not confirm the reload; see {cfg.log_dir / 'engine.log'}",
        file=sys.stderr,
    )
    return EXIT_FAIL


def cmd_phones(args: argparse.Namespace) -> int:
    from ivr import phones_cli

    details = phones_cli.provisioning(_load(args), args.extension, new_secret=args.new_secret)
    print(phones_cli.render(details, as_json=args.json))
    return EXIT_OK


def _apply_asterisk(cfg: StackConfig) -> bool:
    """Regenerate Asterisk's config and reload its modules; say what could not apply."""
    from ivr.asterisk.apply import apply

    report = asyncio.run(apply(cfg))
    if not report.asterisk_running:
        print("asterisk: not running; the regenerated config loads when it starts")
    elif report.reloaded:
        print(f"asterisk: reloaded {', '.join(report.reloaded)} (calls in progress kept)")
    else:
        print("asterisk: config unchanged")
    for line in [*report.not_live, *report.errors]:
        print(f"ivr: asterisk: {line}", file=sys.stderr)
    if not report.ok:
        print("ivr: Asterisk does not run the new config in full", file=sys.stderr)
    return report.ok


def _engine_info(cfg: StackConfig) -> dict[str, Any] | None:
    from ivr.app import ENGINE_FILE

    try:
        info: dict[str, Any] = json.loads((cfg.run_dir / ENGINE_FILE).read_text(encoding="utf-8"))
    except (FileNotFoundError, json.JSONDecodeError):
        return None
    return info


def cmd_mode(args: argparse.Namespace) -> int:
    from ivr.store_cli import set_mode, show_mode

    cfg = _load(args)
    if args.mode == "show":
        print(asyncio.run(show_mode(cfg)))
        return EXIT_OK
    if args.state is None:
        print("ivr: say `ivr mode disaster on` or `ivr mode disaster off`", file=sys.stderr)
        return EXIT_FAIL
    print(asyncio.run(set_mode(cfg, active=args.state == "on", by=args.by, note=args.note)))
    return EXIT_OK


def cmd_calendar(args: argparse.Namespace) -> int:
    from ivr import calendar_cli

    return calendar_cli.command(args, _state_dir(args))


def cmd_prompts(args: argparse.Namespace) -> int:
    cfg = _load(args)
    built = prompts.build(cfg.repo_dir / "recordings", cfg.sounds_dir, force=args.force)
    for b in built:
        print(f"{b.language}/{b.name}: {b.source} -> {b.path}")
    return EXIT_OK


def cmd_serve(args: argparse.Namespace) -> int:
    from ivr import app

    _engine_log(_load(args), args.log_level)
    asyncio.run(app.serve(_load(args)))
    return EXIT_OK


def cmd_run(args: argparse.Namespace) -> int:
    from ivr.supervisor import supervise

    cmd_init(args)
    cfg = _load(args)
    runtime = install.ensure()
    render_all(cfg)
    prompts.build(cfg.recordings_dir, cfg.sounds_dir)
    pid = process.start(cfg, runtime)
    print(
        f"""
hotline1999 is running.
  Asterisk      pid {pid} ({runtime.describe()})
  Call it       ivr --state-dir {cfg.state_dir} call 1999 --dtmf {_example_dtmf(cfg)}
                or a SIP phone: sip:1999@{cfg.host}:{cfg.ports.sip}
  Engine log    {cfg.log_dir / "engine.log"}
  Restarts log  {cfg.log_dir / "supervisor.log"}
  Asterisk log  {cfg.log_dir / "messages.log"}
  Case store    {cfg.database_url}
  Health        ivr --state-dir {cfg.state_dir} status
Press Ctrl-C to stop.
""",
        flush=True,
    )
    _supervisor_log(cfg, args.log_level)
    try:
        # Restarts the engine with backoff when it fails, and Asterisk when it dies:
        # a failed engine start never takes down an Asterisk that answers with the
        # fallback.
        asyncio.run(supervise(cfg, runtime, args.log_level))
    finally:
        process.stop(cfg, runtime)
    return EXIT_OK


def cmd_supervise(args: argparse.Namespace) -> int:
    from ivr.supervisor import supervise

    cfg = _load(args)
    runtime = None if args.no_asterisk else install.ensure()
    if runtime is not None:
        process.start(cfg, runtime)
    _supervisor_log(cfg, args.log_level)
    asyncio.run(supervise(cfg, runtime, args.log_level))
    return EXIT_OK


def _supervisor_log(cfg: StackConfig, level: str) -> None:
    cfg.log_dir.mkdir(parents=True, exist_ok=True)
    stream = (cfg.log_dir / "supervisor.log").open("a", encoding="utf-8", buffering=1)
    ivr_logging.configure(level=level, stream=_Tee(stream, sys.stderr))


def _example_dtmf(cfg: StackConfig) -> str:
    """Keys that take the example call to a person on this stack's own menus."""
    from ivr.routing.example import example_keys
    from ivr.routing.loader import load_profile

    # Quoted: a shell would read a `#` after a space as the start of a comment.
    return f"'{example_keys(load_profile(cfg.routing_dir))}'"


def _engine_log(cfg: StackConfig, level: str) -> None:
    cfg.log_dir.mkdir(parents=True, exist_ok=True)
    stream = (cfg.log_dir / "engine.log").open("a", encoding="utf-8", buffering=1)
    ivr_logging.configure(level=level, stream=_Tee(stream, sys.stderr))


class _Tee:
    """Engine events go to the log file and to the terminal running the engine."""

    def __init__(self, *streams: Any) -> None:
        self._streams = streams

    def write(self, text: str) -> int:
        for s in self._streams:
            s.write(text)
        return len(text)

    def flush(self) -> None:
        for s in self._streams:
            s.flush()


def cmd_status(args: argparse.Namespace) -> int:
    from ivr.health import check

    cfg = _load(args)
    report = asyncio.run(check(cfg))
    if args.json:
        print(json.dumps([asdict(c) for c in report], indent=2))
    else:
        for c in report:
            print(f"{c.name:10} {'ok' if c.ok else 'DOWN':5} {c.detail}")
    return EXIT_OK if all(c.ok for c in report) else EXIT_FAIL


def cmd_call(args: argparse.Namespace) -> int:
    from ivr.testcall import place_call

    cfg = _load(args)
    result = asyncio.run(
        place_call(
            cfg,
            args.number,
            dtmf=args.dtmf,
            caller=args.caller,
            wait_s=args.wait,
            hold_s=args.hold,
            call_uid=uuid.uuid4().hex,
        )
    )
    if args.json:
        print(json.dumps(result, indent=2, ensure_ascii=False, default=str))
    else:
        _print_test_call(result)
    return EXIT_OK if result["reached"] else EXIT_FAIL


def _print_test_call(result: dict[str, Any]) -> None:
    print(f"call {result['uniqueid']}: {result['summary']}")
    call = result.get("call")
    if call:
        _print_call(call)


def cmd_calls_list(args: argparse.Namespace) -> int:
    from ivr.store_cli import UnmaskRefused, list_calls

    try:
        rows = asyncio.run(
            list_calls(_load(args), args.limit, unmask=args.unmask, reason=args.reason)
        )
    except UnmaskRefused as exc:
        print(f"ivr: {exc}", file=sys.stderr)
        return EXIT_FAIL
    if args.json:
        print(json.dumps(rows, indent=2, ensure_ascii=False, default=str))
        return EXIT_OK
    print(f"{'id':>6}  {'started (UTC)':19}  {'caller':14}  {'outcome':9}  cause")
    for r in rows:
        started = str(r["started_at"])[:19]
        print(
            f"{r['id']:>6}  {started:19}  {r['caller_number'] or '-':14}  "
            f"{r['outcome'] or '-':9}  {r['hangup_cause_text'] or '-'}"
        )
    return EXIT_OK


def cmd_calls_show(args: argparse.Namespace) -> int:
    from ivr.store_cli import UnmaskRefused, show_call

    try:
        call = asyncio.run(show_call(_load(args), args.id, unmask=args.unmask, reason=args.reason))
    except UnmaskRefused as exc:
        print(f"ivr: {exc}", file=sys.stderr)
        return EXIT_FAIL
    if call is None:
        print(f"ivr: no call {args.id}", file=sys.stderr)
        return EXIT_FAIL
    if args.json:
        print(json.dumps(call, indent=2, ensure_ascii=False, default=str))
    else:
        _print_call(call)
    return EXIT_OK


def _print_call(call: dict[str, Any]) -> None:
    for key in (
        "id",
        "uniqueid",
        "linkedid",
        "channel",
        "caller_number",
        "started_at",
        "answered_at",
        "ended_at",
        "hangup_cause",
        "hangup_cause_text",
        "outcome",
    ):
        print(f"  {key:18} {call.get(key)}")
    print("  timeline:")
    for e in call.get("events", []):
        data = json.dumps(e["data"], ensure_ascii=False)
        print(f"    {e['seq']:>3}  {str(e['at'])[11:23]}  {e['kind']:18} {data}")
    for t in call.get("tickets", []):
        made = " (made after a store outage)" if t["after_outage"] else ""
        print(f"  ticket {t['ticket_number']}{made}: {t['reason']}, {t['status']}")
        print(f"    message: {t['message'] or '-'}")


def cmd_db(args: argparse.Namespace) -> int:
    from ivr.store_cli import upgrade

    asyncio.run(upgrade(_load(args)))
    print("case store at the newest schema")
    return EXIT_OK


def cmd_tickets_list(args: argparse.Namespace) -> int:
    from ivr import tickets_cli

    return tickets_cli.run(
        tickets_cli.list_tickets(
            _load(args),
            status=args.status,
            unit=args.unit,
            agency=args.agency,
            overdue=args.overdue,
            limit=args.limit,
            as_json=args.json,
            unmask=args.unmask,
            reason=args.reason,
        )
    )


def cmd_tickets_show(args: argparse.Namespace) -> int:
    from ivr import tickets_cli

    return tickets_cli.run(
        tickets_cli.show_ticket(
            _load(args), args.ticket, as_json=args.json, unmask=args.unmask, reason=args.reason
        )
    )


def cmd_tickets_assign(args: argparse.Namespace) -> int:
    from ivr import tickets_cli

    return tickets_cli.run(
        tickets_cli.assign_ticket(_load(args), args.ticket, args.assignee, by=args.by)
    )


def cmd_tickets_note(args: argparse.Namespace) -> int:
    from ivr import tickets_cli

    return tickets_cli.run(tickets_cli.note_ticket(_load(args), args.ticket, args.text, by=args.by))


def cmd_tickets_status(args: argparse.Namespace) -> int:
    from ivr import tickets_cli

    return tickets_cli.run(
        tickets_cli.set_status(
            _load(args), args.ticket, args.status, outcome=args.outcome, by=args.by
        )
    )


def cmd_tickets_close(args: argparse.Namespace) -> int:
    from ivr import tickets_cli

    return tickets_cli.run(
        tickets_cli.set_status(_load(args), args.ticket, "closed", outcome=args.outcome, by=args.by)
    )


def cmd_report_transfers(args: argparse.Namespace) -> int:
    from ivr import tickets_cli

    return tickets_cli.run(
        tickets_cli.transfer_report(_load(args), args.month, csv_path=args.csv, json_path=args.json)
    )


if __name__ == "__main__":
    raise SystemExit(main())
