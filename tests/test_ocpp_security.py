"""Security profiles 1 (HTTP Basic auth) and 2 (TLS, CSMS certificate verified, Basic auth) of the
"Improved security for OCPP 1.6-J" white paper (SW §7, A00.FR.2xx/3xx; spec/ocpp.md §2.8)."""
from __future__ import annotations

import asyncio
import base64
import os
import shutil
import ssl
import subprocess

import pytest

from evsefast.ocpp.testing import Csms, Rig

QUIET = {"meter_sample_interval_s": 0, "heartbeat_interval_s": 0}
KEY = "0123456789abcdef0123"


def run(coro):
    return asyncio.run(asyncio.wait_for(coro, 60))


def test_profile_1_basic_auth():
    async def main():
        csms = Csms("1.6", basic_auth={"CP1": KEY})
        async with Rig(settings=QUIET, csms=csms, security_profile=1, password=KEY) as rig:
            token = base64.b64encode(f"CP1:{KEY}".encode()).decode()
            assert csms.auth_headers[-1] == "Basic " + token
            keys = {e["key"]: e for e in (await csms.call("CP1", "GetConfiguration")).configuration_key}
            assert keys["SecurityProfile"]["value"] == "1"
            assert "AuthorizationKey" not in keys  # write-only
            down = await csms.call("CP1", "ChangeConfiguration", key="SecurityProfile", value="0")
            assert down.status == "Rejected"  # only upwards (A05.FR.08)
            short = await csms.call("CP1", "ChangeConfiguration", key="AuthorizationKey", value="short")
            assert short.status == "Rejected"
            new_key = "fedcba9876543210fedc"
            csms.basic_auth["CP1"] = new_key
            res = await csms.call("CP1", "ChangeConfiguration", key="AuthorizationKey", value=new_key)
            assert res.status == "Accepted"
            # the charge point reconnects with the new key
            await csms.wait_for(lambda: rig.cp.stats.connects == 2, timeout=10)
            assert csms.auth_headers[-1] == "Basic " + base64.b64encode(f"CP1:{new_key}".encode()).decode()
    run(main())


def test_profile_1_wrong_password_is_refused():
    async def main():
        csms = Csms("1.6", basic_auth={"CP1": KEY})
        rig = Rig(settings=QUIET, csms=csms, security_profile=1, password="not-the-right-key")
        rig.start_csms = False
        await csms.start()
        await rig.__aenter__()
        try:
            await csms.wait_for(lambda: rig.cp.stats.connect_failures >= 2, timeout=10)
            assert csms.messages == [] and rig.cp.registration is None
            exc = rig.cp.link.last_exception
            assert exc.response.status_code == 401  # websockets' InvalidStatus
        finally:
            await rig.__aexit__(None, None, None)
    run(main())


def test_profile_needs_its_prerequisites():
    from evsefast.ocpp.link import Security
    with pytest.raises(ValueError, match="password"):
        Security(1).check("ws://h/CP1")
    with pytest.raises(ValueError, match="wss"):
        Security(2, "k" * 16).check("ws://h/CP1")
    Security(2, "k" * 16).check("wss://h/CP1")


def _openssl(tmp_path):
    exe = shutil.which("openssl")
    if exe is None:
        if os.environ.get("CI") == "true":
            pytest.fail("openssl is needed to make the test certificates (apt-get install openssl)")
        pytest.skip("openssl not installed: cannot make test certificates")

    def sh(*args):
        subprocess.run([exe, *args], cwd=tmp_path, check=True, capture_output=True)
    (tmp_path / "ca.ext").write_text("basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign,cRLSign\n"
                                     "subjectKeyIdentifier=hash\n")
    (tmp_path / "srv.ext").write_text("basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\n"
                                      "extendedKeyUsage=serverAuth\nsubjectAltName=DNS:localhost\n"
                                      "subjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid\n")
    sh("ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", "ca.key")
    sh("req", "-new", "-key", "ca.key", "-subj", "/CN=evsefast test CA", "-out", "ca.csr")
    sh("x509", "-req", "-in", "ca.csr", "-signkey", "ca.key", "-days", "2", "-extfile", "ca.ext", "-out", "ca.pem")
    sh("ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", "srv.key")
    sh("req", "-new", "-key", "srv.key", "-subj", "/CN=localhost", "-out", "srv.csr")
    sh("x509", "-req", "-in", "srv.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial", "-days", "2",
       "-extfile", "srv.ext", "-out", "srv.pem")
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(tmp_path / "srv.pem", tmp_path / "srv.key")
    return ctx, str(tmp_path / "ca.pem")


def test_profile_2_tls_with_basic_auth(tmp_path):
    server_ctx, ca = _openssl(tmp_path)

    async def main():
        csms = Csms("1.6", basic_auth={"CP1": KEY}, ssl_context=server_ctx)
        async with Rig(settings=QUIET, csms=csms, security_profile=2, password=KEY, ca_file=ca) as rig:
            assert rig.cp.link.url.startswith("wss://localhost:")
            assert rig.cp.registration == "Accepted"
            h = rig.h()
            h.plug_in()
            assert await rig.cp.present_token(1, "TAG1") == "Started"
            await csms.wait_for("StartTransaction")
    run(main())


def test_profile_2_unknown_certificate_authority_is_refused(tmp_path):
    server_ctx, _ca = _openssl(tmp_path)

    async def main():
        csms = Csms("1.6", basic_auth={"CP1": KEY}, ssl_context=server_ctx)
        rig = Rig(settings=QUIET, csms=csms, security_profile=2, password=KEY)  # system roots only
        rig.start_csms = False
        await csms.start()
        await rig.__aenter__()
        try:
            await csms.wait_for(lambda: rig.cp.stats.connect_failures >= 1, timeout=10)
            assert csms.messages == []
            assert isinstance(rig.cp.link.last_exception, ssl.SSLCertVerificationError)
        finally:
            await rig.__aexit__(None, None, None)
    run(main())
