#!/usr/bin/python3
"""Checks our NTLMSSP and SPNEGO tokens with code we did not write.

- impacket's ntlm module parses our NEGOTIATE and AUTHENTICATE messages, and
  its NTOWFv2, SIGNKEY, SEALKEY and MAC recompute the NTLMv2 proof, the keys,
  the MIC and the SPNEGO mechListMIC we produced;
- impacket's spnego module and pyasn1's strict DER codec, given the ASN.1 of
  RFC 4178 section 4.2, decode our SPNEGO tokens (pyasn1 must re-encode them
  to the same bytes: our DER is canonical); openssl asn1parse parses them too;
- the server's tokens are built here with impacket and pyasn1, so our parsers
  read encodings we did not make.

Usage: oracle_impacket.py PATH/TO/auth_tool. Output: TAP.
"""
import os
import shutil
import struct
import subprocess
import sys
import time
import traceback

from Cryptodome.Cipher import ARC4
from impacket import ntlm, spnego
from pyasn1.codec.der import decoder as der_decoder
from pyasn1.codec.der import encoder as der_encoder
from pyasn1.type import char, namedtype, namedval, tag, univ

TOOL = sys.argv[1]
NTLMSSP_OID = b'\x2b\x06\x01\x04\x01\x82\x37\x02\x02\x0a'
KRB5_OID = b'\x2a\x86\x48\x86\xf7\x12\x01\x02\x02'


# ---- RFC 4178 4.2 and RFC 2743 3.1 in pyasn1 ----

def ctx(n):
    return tag.Tag(tag.tagClassContext, tag.tagFormatConstructed, n)


class MechTypeList(univ.SequenceOf):
    componentType = univ.ObjectIdentifier()


class NegTokenInit(univ.Sequence):
    componentType = namedtype.NamedTypes(
        namedtype.NamedType('mechTypes', MechTypeList().subtype(explicitTag=ctx(0))),
        namedtype.OptionalNamedType('reqFlags', univ.BitString().subtype(explicitTag=ctx(1))),
        namedtype.OptionalNamedType('mechToken', univ.OctetString().subtype(explicitTag=ctx(2))),
        namedtype.OptionalNamedType('mechListMIC', univ.OctetString().subtype(explicitTag=ctx(3))))


class NegState(univ.Enumerated):
    namedValues = namedval.NamedValues(('accept-completed', 0), ('accept-incomplete', 1),
                                       ('reject', 2), ('request-mic', 3))


class NegTokenResp(univ.Sequence):
    componentType = namedtype.NamedTypes(
        namedtype.OptionalNamedType('negState', NegState().subtype(explicitTag=ctx(0))),
        namedtype.OptionalNamedType('supportedMech', univ.ObjectIdentifier().subtype(explicitTag=ctx(1))),
        namedtype.OptionalNamedType('responseToken', univ.OctetString().subtype(explicitTag=ctx(2))),
        namedtype.OptionalNamedType('mechListMIC', univ.OctetString().subtype(explicitTag=ctx(3))))


class NegotiationToken(univ.Choice):
    componentType = namedtype.NamedTypes(
        namedtype.NamedType('negTokenInit', NegTokenInit().subtype(explicitTag=ctx(0))),
        namedtype.NamedType('negTokenResp', NegTokenResp().subtype(explicitTag=ctx(1))))


class InitialContextToken(univ.Sequence):
    tagSet = univ.Sequence.tagSet.tagImplicitly(
        tag.Tag(tag.tagClassApplication, tag.tagFormatConstructed, 0))
    componentType = namedtype.NamedTypes(
        namedtype.NamedType('thisMech', univ.ObjectIdentifier()),
        namedtype.NamedType('innerContextToken', NegotiationToken()))


def oid_bytes(oid):
    """The contents octets of an OID, via pyasn1's encoder."""
    enc = der_encoder.encode(oid)
    return enc[2:]


def der_roundtrip(data, spec):
    """Decodes with pyasn1's DER decoder, which must consume everything and re-encode identically."""
    value, rest = der_decoder.decode(data, asn1Spec=spec)
    if rest:
        raise AssertionError('bytes left after the token: %r' % rest)
    if der_encoder.encode(value) != data:
        raise AssertionError('not canonical DER')
    return value


MECH_TYPES_NTLMSSP = der_encoder.encode(
    MechTypeList().setComponents(univ.ObjectIdentifier('1.3.6.1.4.1.311.2.2.10')))


# ---- TAP ----

results = []


def check(name, fn):
    try:
        fn()
        results.append((True, name, None))
    except Exception:  # noqa: BLE001 - every failure becomes a TAP "not ok"
        results.append((False, name, traceback.format_exc()))


def skip(name, why):
    results.append((None, name, why))


def expect(cond, what):
    if not cond:
        raise AssertionError(what)


# ---- the tool ----

class Tool:
    def __init__(self, *args):
        self.p = subprocess.Popen([TOOL] + list(args), stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                  text=True, bufsize=1)

    def line(self):
        line = self.p.stdout.readline().strip()
        if line.startswith('error'):
            raise ToolError(line.split(' ', 1)[1])
        return line

    def value(self, key):
        line = self.line()
        k, v = line.split(' ', 1)
        expect(k == key, 'expected %s, got %r' % (key, line))
        return b'' if v in ('-', 'none') else bytes.fromhex(v)

    def send(self, data):
        self.p.stdin.write((data.hex() if data else '-') + '\n')
        self.p.stdin.flush()

    def close(self):
        self.p.stdin.close()
        rc = self.p.wait(timeout=30)
        self.p.stdout.close()
        return rc


class ToolError(Exception):
    pass


# ---- a server's CHALLENGE_MESSAGE, made by impacket ----

def make_challenge(timestamp=True, flags=0xe28a8215):
    av = ntlm.AV_PAIRS()
    av[ntlm.NTLMSSP_AV_DOMAINNAME] = 'ORACLE'.encode('utf-16le')
    av[ntlm.NTLMSSP_AV_HOSTNAME] = 'SRV1'.encode('utf-16le')
    av[ntlm.NTLMSSP_AV_DNS_DOMAINNAME] = 'oracle.test'.encode('utf-16le')
    av[ntlm.NTLMSSP_AV_DNS_HOSTNAME] = 'srv1.oracle.test'.encode('utf-16le')
    ts = 116444736000000000 + int(time.time()) * 10000000
    if timestamp:
        av[ntlm.NTLMSSP_AV_TIME] = struct.pack('<Q', ts)
    ch = ntlm.NTLMAuthChallenge()
    ch['flags'] = flags
    ch['challenge'] = os.urandom(8)
    ch['domain_name'] = 'ORACLE'.encode('utf-16le')
    ch['Version'] = b'\x0a\x00\x63\x45\x00\x00\x00\x0f'
    ch['domain_offset'] = 56
    ch['TargetInfoFields'] = av.getData()
    ch['TargetInfoFields_offset'] = 56 + len(ch['domain_name'])
    return ch.getData(), ch['challenge'], (ts if timestamp else None), av


def parse_av(data):
    """AV pairs in order, checked against the end; impacket's AV_PAIRS keeps no order."""
    pairs, pos = [], 0
    while True:
        avid, length = struct.unpack_from('<HH', data, pos)
        expect(pos + 4 + length <= len(data), 'AV pair past the end')
        pairs.append((avid, data[pos + 4:pos + 4 + length]))
        pos += 4 + length
        if avid == ntlm.NTLMSSP_AV_EOL:
            expect(pos == len(data), 'bytes after MsvAvEOL')
            return pairs


def verify_authenticate(neg, chal, server_challenge, ts, av, auth, key, user, domain, password):
    """Everything in [MS-NLMP] 3.1.5.1.2 and 3.3.2 recomputed with impacket."""
    r = ntlm.NTLMAuthChallengeResponse()
    r.fromString(auth)
    expect(r['user_name'].decode('utf-16le') == user, 'user %r' % r['user_name'])
    expect(r['domain_name'].decode('utf-16le') == domain, 'domain %r' % r['domain_name'])
    nt = r['ntlm']
    proof, temp = nt[:16], nt[16:]
    expect(temp[:2] == b'\x01\x01' and temp[2:8] == b'\0' * 6, 'temp header')
    expect(temp[24:28] == b'\0' * 4 and temp[-4:] == b'\0' * 4, 'temp padding')
    if ts is not None:
        expect(struct.unpack('<Q', temp[8:16])[0] == ts, 'time is not the server timestamp')
        expect(r['lanman'] == b'\0' * 24, 'LmChallengeResponse should be Z(24)')
    pairs = parse_av(temp[28:-4])
    got = dict(pairs)
    for avid, (length, value) in av.fields.items():
        if avid != ntlm.NTLMSSP_AV_EOL:
            expect(got.get(avid) == value, 'AV pair %d not echoed' % avid)
    mic_wanted = ts is not None
    if mic_wanted:
        expect(struct.unpack('<I', got[ntlm.NTLMSSP_AV_FLAGS])[0] & 2, 'MsvAvFlags without the MIC bit')
    response_key = ntlm.NTOWFv2(user, password, domain)
    expect(ntlm.hmac_md5(response_key, server_challenge + temp) == proof, 'NTProofStr')
    base = ntlm.hmac_md5(response_key, proof)
    flags = r['flags']
    off, length = r['session_key_offset'], r['session_key_len']
    if flags & ntlm.NTLMSSP_NEGOTIATE_KEY_EXCH:
        expect(length == 16, 'EncryptedRandomSessionKey length %d' % length)
        exported = ARC4.new(base).decrypt(auth[off:off + 16])
        # impacket's server does not follow the offset: it reads the payload
        # in order from where NEGOTIATE_VERSION says the header ends.
        expect(r['session_key'] == auth[off:off + 16],
               "impacket's server would read another EncryptedRandomSessionKey")
    else:
        exported = base
    expect(exported == key, 'exported session key differs from the one the library reports')
    if mic_wanted:
        zeroed = auth[:72] + b'\0' * 16 + auth[88:]
        expect(ntlm.hmac_md5(exported, neg + chal + zeroed) == auth[72:88], 'MIC')
    return r, exported, proof, temp


# ---- NTLMSSP ----

USER, DOMAIN, PASSWORD = 'Oracle User', 'Oracle', 'pa\u00dfw\u00f6rd \U0001f511'


def test_ntlm_negotiate():
    t = Tool('ntlm', USER, DOMAIN, PASSWORD)
    neg = t.value('negotiate')
    t.p.kill()
    t.close()
    m = ntlm.NTLMAuthNegotiate()
    m.fromString(neg)
    expect(neg[:8] == b'NTLMSSP\0' and struct.unpack_from('<I', neg, 8)[0] == 1, 'header')
    want = (ntlm.NTLMSSP_NEGOTIATE_UNICODE | ntlm.NTLMSSP_REQUEST_TARGET | ntlm.NTLMSSP_NEGOTIATE_SIGN |
            ntlm.NTLMSSP_NEGOTIATE_NTLM | ntlm.NTLMSSP_NEGOTIATE_ALWAYS_SIGN |
            ntlm.NTLMSSP_NEGOTIATE_EXTENDED_SESSIONSECURITY | ntlm.NTLMSSP_NEGOTIATE_TARGET_INFO |
            ntlm.NTLMSSP_NEGOTIATE_128 | ntlm.NTLMSSP_NEGOTIATE_KEY_EXCH | ntlm.NTLMSSP_NEGOTIATE_56 |
            ntlm.NTLMSSP_NEGOTIATE_VERSION)
    expect(m['flags'] == want, 'flags %08x' % m['flags'])
    expect(neg[32:40] == b'\x06\x01\x00\x00\x00\x00\x00\x0f', 'VERSION 6.1.0, revision 15')
    expect(m['domain_name'] == b'' and m['host_name'] == b'', 'no OEM names')


def run_ntlm(timestamp, user=USER, domain=DOMAIN, password=PASSWORD, ws='WKS01'):
    chal, sc, ts, av = make_challenge(timestamp)
    t = Tool('ntlm', user, domain, password, ws)
    neg = t.value('negotiate')
    t.send(chal)
    auth = t.value('authenticate')
    key = t.value('key')
    expect(t.close() == 0, 'tool failed')
    return neg, chal, sc, ts, av, auth, key


def test_ntlm_authenticate_mic():
    neg, chal, sc, ts, av, auth, key = run_ntlm(True)
    r, exported, _, _ = verify_authenticate(neg, chal, sc, ts, av, auth, key, USER, DOMAIN, PASSWORD)
    expect(r['host_name'].decode('utf-16le') == 'WKS01', 'workstation')
    expect(r['flags'] == 0xe2888215, 'AUTHENTICATE flags %08x' % r['flags'])


def test_ntlm_authenticate_no_timestamp():
    neg, chal, sc, ts, av, auth, key = run_ntlm(False)
    r, _, _, temp = verify_authenticate(neg, chal, sc, None, av, auth, key, USER, DOMAIN, PASSWORD)
    # No MsvAvTimestamp: LMv2 is sent ([MS-NLMP] 3.3.2), the client's own time is used, no MIC.
    response_key = ntlm.NTOWFv2(USER, PASSWORD, DOMAIN)
    cc = temp[16:24]
    expect(r['lanman'] == ntlm.hmac_md5(response_key, sc + cc) + cc, 'LMv2')
    now = 116444736000000000 + int(time.time()) * 10000000
    expect(abs(struct.unpack('<Q', temp[8:16])[0] - now) < 600 * 10000000, 'client time')
    expect(r['domain_offset'] == 88, 'payload after Version and a zeroed MIC field')
    expect(auth[72:88] == b'\0' * 16, 'the unused MIC field is zero')


def test_ntlm_flag_combinations():
    """[MS-NLMP] 3.1.5.1.2 for every mix of SIGN, SEAL, KEY_EXCH and ESS a server may answer:
    the AUTHENTICATE keeps only what both sides asked for, and impacket's server derives
    from it the same ExportedSessionKey as the library (KEY_EXCH without SIGN, as impacket's
    own CHALLENGE has it, included)."""
    from impacket import smbserver
    base = (ntlm.NTLMSSP_NEGOTIATE_UNICODE | ntlm.NTLMSSP_REQUEST_TARGET | ntlm.NTLMSSP_NEGOTIATE_NTLM |
            ntlm.NTLMSSP_NEGOTIATE_TARGET_INFO | ntlm.NTLMSSP_NEGOTIATE_128 | ntlm.NTLMSSP_NEGOTIATE_56 |
            ntlm.NTLMSSP_NEGOTIATE_VERSION)
    optional = (ntlm.NTLMSSP_NEGOTIATE_SIGN, ntlm.NTLMSSP_NEGOTIATE_SEAL, ntlm.NTLMSSP_NEGOTIATE_KEY_EXCH,
                ntlm.NTLMSSP_NEGOTIATE_EXTENDED_SESSIONSECURITY)
    nthash = ntlm.compute_nthash(PASSWORD)
    for mask in range(16):
        flags = base
        for i, f in enumerate(optional):
            if mask & (1 << i):
                flags |= f
        chal, sc, ts, av = make_challenge(True, flags)
        t = Tool('ntlm', USER, DOMAIN, PASSWORD, 'WKS01')
        neg = t.value('negotiate')
        t.send(chal)
        if not flags & ntlm.NTLMSSP_NEGOTIATE_EXTENDED_SESSIONSECURITY:
            # NTLMv2 signing needs extended session security: refused, not downgraded.
            try:
                t.value('authenticate')
            except ToolError as e:
                expect('SMBSESS_E_NOT_SUPPORTED' in str(e), 'flags %08x: %s' % (flags, e))
                t.close()
                continue
            raise AssertionError('flags %08x: logon without extended session security' % flags)
        auth = t.value('authenticate')
        key = t.value('key')
        expect(t.close() == 0, 'tool failed')
        r, exported, _, _ = verify_authenticate(neg, chal, sc, ts, av, auth, key, USER, DOMAIN, PASSWORD)
        asked = struct.unpack_from('<I', neg, 12)[0]
        negotiable = 0
        for f in optional + (ntlm.NTLMSSP_NEGOTIATE_ALWAYS_SIGN,):
            negotiable |= f
        want = asked & ~(negotiable & ~flags)
        expect(r['flags'] == want, 'flags %08x: AUTHENTICATE flags %08x, want %08x' % (flags, r['flags'], want))
        keyx = bool(flags & ntlm.NTLMSSP_NEGOTIATE_KEY_EXCH)
        expect((r['session_key_len'] == 16) == keyx, 'flags %08x: EncryptedRandomSessionKey length %d'
               % (flags, r['session_key_len']))
        challenge_msg = ntlm.NTLMAuthChallenge()
        challenge_msg.fromString(chal)
        negotiate_msg = ntlm.NTLMAuthNegotiate()
        negotiate_msg.fromString(neg)
        status, server_key = smbserver.computeNTLMv2(USER.lower(), b'', nthash, sc, r, challenge_msg,
                                                     negotiate_msg)
        expect(status == 0, 'flags %08x: impacket refused the logon (%08x)' % (flags, status))
        expect(server_key == exported, 'flags %08x: impacket derives another session key' % flags)


def test_ntlm_oracle_can_fail():
    neg, chal, sc, ts, av, auth, key = run_ntlm(True)
    try:
        verify_authenticate(neg, chal, sc, ts, av, auth, key, USER, DOMAIN, PASSWORD + 'x')
    except AssertionError as e:
        expect('NTProofStr' in str(e), 'failed for another reason: %s' % e)
        return
    raise AssertionError('a wrong password verified')


def test_ntlm_fresh_randomness():
    a = run_ntlm(True)
    b = run_ntlm(True)
    expect(a[6] != b[6], 'the same exported session key twice')


def test_ntlm_anonymous():
    chal, sc, ts, av = make_challenge(True)
    t = Tool('ntlm', '', '', '')
    t.value('negotiate')
    t.send(chal)
    auth = t.value('authenticate')
    key = t.value('key')
    expect(t.close() == 0, 'tool failed')
    r = ntlm.NTLMAuthChallengeResponse()
    r.fromString(auth)
    expect(r['flags'] & ntlm.NTLMSSP_NEGOTIATE_ANONYMOUS, 'ANONYMOUS flag')
    expect(r['ntlm'] == b'' and r['lanman'] == b'\0', 'NULL session responses')
    expect(r['user_name'] == b'' and r['session_key_len'] == 0 and key == b'', 'no user, no key')


# ---- SPNEGO ----

def openssl_parses(data):
    p = subprocess.run(['openssl', 'asn1parse', '-inform', 'DER'], input=data,
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    expect(p.returncode == 0, 'openssl asn1parse: %s' % p.stderr.decode(errors='replace'))
    expect(b'Error' not in p.stdout and b'error' not in p.stderr, p.stderr)


def spnego_exchange(hint, final_mic_ok=True, timestamp=True):
    """Runs the three legs; returns what was seen."""
    seen = {}
    t = Tool('spnego', USER, DOMAIN, PASSWORD)
    t.send(hint)
    init = t.value('out')
    t.value('key')
    seen['init'] = init
    chal, sc, ts, av = make_challenge(timestamp)
    resp1 = spnego.SPNEGO_NegTokenResp()
    resp1['NegState'] = b'\x01'
    resp1['SupportedMech'] = NTLMSSP_OID
    resp1['ResponseToken'] = chal
    t.send(resp1.getData())
    resp2 = t.value('out')
    key = t.value('key')
    seen.update(resp2=resp2, key=key, chal=chal, sc=sc, ts=ts, av=av)

    auth = spnego.SPNEGO_NegTokenResp(resp2)['ResponseToken']
    neg = spnego.SPNEGO_NegTokenInit(init)['MechToken']
    r, exported, _, _ = verify_authenticate(neg, chal, sc, ts, av, auth, key, USER, DOMAIN, PASSWORD)
    flags = r['flags']
    seen['flags'] = flags

    server_sign = ntlm.SIGNKEY(flags, exported, 'Server')
    server_seal = ntlm.SEALKEY(flags, exported, 'Server')
    mic = ntlm.MAC(flags, ARC4.new(server_seal).encrypt, server_sign, 0, MECH_TYPES_NTLMSSP).getData()
    if not final_mic_ok:
        mic = mic[:8] + bytes([mic[8] ^ 1]) + mic[9:]
    final = NegotiationToken()
    body = final.getComponentByName('negTokenResp')
    body['negState'] = 'accept-completed'
    body['mechListMIC'] = mic
    t.send(der_encoder.encode(final))
    try:
        seen['final_out'] = t.value('out')
        t.value('key')
        seen['done'] = t.line()
    except ToolError as e:
        seen['error'] = str(e)
    seen['rc'] = t.close()
    return seen


def test_spnego_init_token():
    s = spnego_exchange(b'')
    init = s['init']
    m = spnego.SPNEGO_NegTokenInit(init)
    expect(m['OID'] == spnego.GSS_API_SPNEGO_UUID, 'GSS-API OID')
    expect(m['MechTypes'] == [NTLMSSP_OID], 'impacket reads MechTypes %r' % m['MechTypes'])
    expect(m['MechToken'][:12] == b'NTLMSSP\0\x01\0\0\0', 'mechToken is the NEGOTIATE_MESSAGE')
    v = der_roundtrip(init, InitialContextToken())
    expect(str(v['thisMech']) == '1.3.6.1.5.5.2', 'thisMech')
    nti = v['innerContextToken']['negTokenInit']
    expect([str(o) for o in nti['mechTypes']] == ['1.3.6.1.4.1.311.2.2.10'], 'pyasn1 mechTypes')
    expect(bytes(nti['mechToken']) == m['MechToken'], 'pyasn1 mechToken')


def test_spnego_init_openssl():
    if shutil.which('openssl') is None:
        raise AssertionError('openssl not installed')
    s = spnego_exchange(b'')
    openssl_parses(s['init'])
    openssl_parses(s['resp2'])


def test_spnego_client_resp():
    s = spnego_exchange(b'')
    v = der_roundtrip(s['resp2'], NegotiationToken())
    resp = v['negTokenResp']
    expect(not resp['negState'].isValue and not resp['supportedMech'].isValue, 'client sends no negState/mech')
    expect(bytes(resp['responseToken'])[:12] == b'NTLMSSP\0\x03\0\0\0', 'responseToken')
    # The client's mechListMIC, recomputed with impacket's SIGNKEY/SEALKEY/MAC (client sequence 0).
    exported, flags = s['key'], s['flags']
    sign = ntlm.SIGNKEY(flags, exported, 'Client')
    seal = ntlm.SEALKEY(flags, exported, 'Client')
    want = ntlm.MAC(flags, ARC4.new(seal).encrypt, sign, 0, MECH_TYPES_NTLMSSP).getData()
    expect(bytes(resp['mechListMIC']) == want, 'mechListMIC')


def test_spnego_final_mic_verified():
    s = spnego_exchange(b'')
    expect(s.get('done') == 'done' and s['rc'] == 0, 'exchange did not finish: %r' % s.get('error'))
    expect(s['final_out'] == b'', 'nothing to send after the last leg')


def test_spnego_final_mic_tampered():
    s = spnego_exchange(b'', final_mic_ok=False)
    expect(s.get('error') == 'SMBSESS_E_BAD_SIGNATURE', 'tampered mechListMIC accepted: %r' % s)
    expect(s['rc'] == 1, 'exit status')


def test_spnego_server_hint():
    # The server's hint made by impacket, then one made by pyasn1 with negHints (NegTokenInit2).
    hint = spnego.SPNEGO_NegTokenInit()
    hint['MechTypes'] = [KRB5_OID, NTLMSSP_OID]
    s = spnego_exchange(hint.getData())
    expect(s.get('done') == 'done', 'with an impacket hint: %r' % s.get('error'))


def test_spnego_server_hint_kerberos_only():
    hint = spnego.SPNEGO_NegTokenInit()
    hint['MechTypes'] = [KRB5_OID]
    t = Tool('spnego', USER, DOMAIN, PASSWORD)
    t.send(hint.getData())
    try:
        t.value('out')
        raise AssertionError('accepted a server without NTLMSSP')
    except ToolError as e:
        expect(str(e) == 'SMBSESS_E_NOT_SUPPORTED', str(e))
    t.close()


def main():
    tests = [
        ('NTLMSSP NEGOTIATE parsed by impacket', test_ntlm_negotiate),
        ('NTLMSSP AUTHENTICATE with MIC verified by impacket', test_ntlm_authenticate_mic),
        ('NTLMSSP AUTHENTICATE without MsvAvTimestamp (LMv2, no MIC)', test_ntlm_authenticate_no_timestamp),
        ('NTLMSSP flags: every SIGN/SEAL/KEY_EXCH/ESS answer, keys as impacket\'s server derives them',
         test_ntlm_flag_combinations),
        ('the NTLMSSP oracle rejects a wrong password', test_ntlm_oracle_can_fail),
        ('exported session keys are random', test_ntlm_fresh_randomness),
        ('anonymous AUTHENTICATE', test_ntlm_anonymous),
        ('SPNEGO NegTokenInit read by impacket and pyasn1 (canonical DER)', test_spnego_init_token),
        ('SPNEGO tokens parsed by openssl asn1parse', test_spnego_init_openssl),
        ('SPNEGO NegTokenResp and mechListMIC recomputed', test_spnego_client_resp),
        ('SPNEGO server mechListMIC from impacket accepted', test_spnego_final_mic_verified),
        ('SPNEGO tampered server mechListMIC rejected', test_spnego_final_mic_tampered),
        ('SPNEGO server hint built by impacket', test_spnego_server_hint),
        ('SPNEGO server hint without NTLMSSP refused', test_spnego_server_hint_kerberos_only),
    ]
    for name, fn in tests:
        check(name, fn)
    print('1..%d' % len(results))
    for i, (okay, name, info) in enumerate(results, 1):
        if okay is None:
            print('ok %d - %s # SKIP %s' % (i, name, info))
        elif okay:
            print('ok %d - %s' % (i, name))
        else:
            print('not ok %d - %s' % (i, name))
            for line in info.splitlines():
                print('# ' + line)
    return 0 if all(o is not False for o, _, _ in results) else 1


if __name__ == '__main__':
    sys.exit(main())
