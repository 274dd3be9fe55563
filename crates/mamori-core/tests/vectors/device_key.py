"""Writes device_key.json with the `cryptography` package (OpenSSL), independently of the Rust
code under test: `python3 device_key.py > device_key.json`. The key is fixed so the file is
stable; ECDSA nonces are random, so a rerun changes the signatures (and nothing else)."""
import base64, json
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

N = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551
AUTH = "au_7f3c9a1e0b5d4c2a8e6f1b3d5a7c9e0f"
OTHER = "au_00112233445566778899aabbccddeeff"


def b64(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def key(d):
    return ec.derive_private_key(d, ec.SECP256R1())


def raw(private):
    return private.public_key().public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)


def message(purpose, auth):
    return f"mamori-device-proof-v1\n{purpose}\n{auth}".encode()


def sign(private, purpose, auth, high_s=None):
    """(P1363 r||s, DER) with s forced low or high when asked."""
    while True:
        der = private.sign(message(purpose, auth), ec.ECDSA(hashes.SHA256()))
        r, s = decode_dss_signature(der)
        low = min(s, N - s)
        if high_s is None:
            return r.to_bytes(32, "big") + s.to_bytes(32, "big"), der
        s = N - low if high_s else low
        return r.to_bytes(32, "big") + s.to_bytes(32, "big"), der


alice = key(0x1F2E3D4C5B6A79880123456789ABCDEF0FEDCBA98765432100112233445566)
mallory = key(0x5A5A5A5A5A5A5A5A5A5A5A5A5A5A5A5A5A5A5A5A5A5A5A5A5A5A5A5A5A5A5A5A)
pk = raw(alice)
device_sig, der = sign(alice, "device", AUTH)
register_sig, _ = sign(alice, "register", AUTH)
low_sig, _ = sign(alice, "device", AUTH, high_s=False)
high_sig = low_sig[:32] + (N - int.from_bytes(low_sig[32:], "big")).to_bytes(32, "big")
other_auth_sig, _ = sign(alice, "device", OTHER)
mallory_sig, _ = sign(mallory, "device", AUTH)
# An off-curve point: a valid point with Y changed by one.
off_curve = pk[:-1] + bytes([pk[-1] ^ 1])
compressed = alice.public_key().public_bytes(
    serialization.Encoding.X962, serialization.PublicFormat.CompressedPoint)
r_zero = bytes(32) + device_sig[32:]
s_order = device_sig[:32] + N.to_bytes(32, "big")


def case(id, description, purpose, public_key, signature, expect, auth=AUTH):
    return {"id": id, "description": description, "purpose": purpose,
            "authentication_id": auth, "public_key": public_key, "signature": signature,
            "expect": expect}


OK = {"ok": True}
cases = [
    case("device_valid", "a proof at the device step", "device", b64(pk), b64(device_sig), OK),
    case("register_valid", "proving possession at registration", "register", b64(pk),
         b64(register_sig), OK),
    case("low_s_valid", "the low-S form of a signature", "device", b64(pk), b64(low_sig), OK),
    case("high_s_valid", "the same signature with s replaced by n - s (WebCrypto does not "
         "normalise s)", "device", b64(pk), b64(high_sig), OK),
    case("other_authentication", "a proof made for another authentication id", "device",
         b64(pk), b64(other_auth_sig), {"error": "signature"}),
    case("other_purpose", "a registration proof offered at the device step", "device", b64(pk),
         b64(register_sig), {"error": "signature"}),
    case("other_purpose_reverse", "a device-step proof offered at registration", "register",
         b64(pk), b64(device_sig), {"error": "signature"}),
    case("other_key", "a proof by another key", "device", b64(pk), b64(mallory_sig),
         {"error": "signature"}),
    case("der_signature", "the DER (ASN.1) form of a valid signature", "device", b64(pk),
         b64(der), {"error": "length"}),
    case("signature_padded", "a signature with base64 padding", "device", b64(pk),
         b64(device_sig) + "==", {"error": "encoding"}),
    case("signature_foreign_character", "a signature with a '+' (standard alphabet)",
         "device", b64(pk), "+" + b64(device_sig)[1:], {"error": "encoding"}),
    case("signature_short", "63 bytes", "device", b64(pk), b64(device_sig[:63]),
         {"error": "length"}),
    case("signature_long", "65 bytes", "device", b64(pk), b64(device_sig + b"\0"),
         {"error": "length"}),
    case("signature_r_zero", "r = 0", "device", b64(pk), b64(r_zero), {"error": "invalid"}),
    case("signature_s_order", "s = n, the group order", "device", b64(pk), b64(s_order),
         {"error": "invalid"}),
    case("key_padded", "a public key with base64 padding", "device", b64(pk) + "=",
         b64(device_sig), {"error": "encoding"}),
    case("key_compressed", "a compressed point (33 bytes)", "device", b64(compressed),
         b64(device_sig), {"error": "length"}),
    case("key_short", "64 bytes: the point without its 0x04 prefix", "device", b64(pk[1:]),
         b64(device_sig), {"error": "length"}),
    case("key_wrong_prefix", "65 bytes with a 0x02 prefix", "device", b64(b"\x02" + pk[1:]),
         b64(device_sig), {"error": "invalid"}),
    case("key_off_curve", "an uncompressed point not on P-256", "device", b64(off_curve),
         b64(device_sig), {"error": "invalid"}),
]
print(json.dumps({
    "description": "Device-key proofs, wire format v1 (crates/mamori-core/src/device_key.rs). "
                   "Each case: parse public_key, parse signature, verify for purpose and "
                   "authentication_id; expect ok or the first DeviceKeyError::code().",
    "generator": "tests/vectors/device_key.py (python3, cryptography " +
                 __import__("cryptography").__version__ + ")",
    "cases": cases}, indent=2))
