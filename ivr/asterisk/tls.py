"""SIP over TLS and SRTP for phones, from the stack file (off unless configured).

`pjsip.conf` includes the file written here. With `sip_tls_port` set, a TLS
transport listens on `sip_bind` with the operator's certificate and key; with `srtp`
on, every phone endpoint (agents, unit phones) requires SRTP (SDES keys, which only
travel safely over TLS). Trunks and the carrier keep their own settings.
"""

from __future__ import annotations

from ivr.config import ConfigError, StackConfig

TLS_FILE = "pjsip_tls.conf"
# Phones inherit this template (generate.py), so SRTP is one switch for all of them.
PHONE_TEMPLATE = "hotline-phone-media"


def tls_conf(cfg: StackConfig) -> str:
    parts = ["; Generated from the stack file by hotline1999. Do not edit.\n\n"]
    if cfg.sip_tls_port:
        if not (cfg.tls_cert_file and cfg.tls_key_file):
            raise ConfigError("sip_tls_port is set: tls_cert_file and tls_key_file are needed")
        parts.append(
            "[transport-tls]\ntype = transport\nprotocol = tls\n"
            f"bind = {cfg.sip_bind}:{cfg.sip_tls_port}\n"
            f"cert_file = {cfg.tls_cert_file}\npriv_key_file = {cfg.tls_key_file}\n"
            "method = tlsv1_2\n\n"
        )
    if cfg.srtp and not cfg.sip_tls_port:
        raise ConfigError("srtp needs sip_tls_port: SDES keys must not cross the network in clear")
    parts.append(f"[{PHONE_TEMPLATE}](!)\n")
    if cfg.srtp:
        parts.append("media_encryption = sdes\nmedia_encryption_optimistic = no\n")
    parts.append("\n")
    return "".join(parts)
