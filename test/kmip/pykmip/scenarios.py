"""The stories driver.py runs with PyKMIP, each on one connection.

Each scenario is a function (story, args): it runs named steps with
story.step(name, run, needs) and every step returns a dict of plain JSON
values. Steps go through PyKMIP's ProxyKmipClient, the API its users call;
only where that API cannot say what KMIP can (an Authenticated Encryption
Tag on Decrypt, Discover Versions, Query) through the lower-level KMIPProxy.

Key material is never returned: a step reports lengths, and whether a
local check with the material held.
"""
import enum
import hashlib
import hmac
import os

from cryptography.hazmat.primitives import padding
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from kmip.core import enums
from kmip.core.attributes import CryptographicParameters
from kmip.core.factories import attributes as attribute_factories
from kmip.core.messages import payloads
from kmip.core import objects as cobjects
from kmip.pie import exceptions as pie_exceptions
from kmip.pie import objects

ATTRIBUTES = attribute_factories.AttributeFactory()

#: The attributes get_attributes asks for by name.
NAMED_ATTRIBUTES = ["Name", "Object Type", "Cryptographic Algorithm", "Cryptographic Length", "State"]

#: Cryptographic Parameters for AES-GCM (KMIP 1.4 and later): the server makes the IV, the tag is 16 bytes.
GCM = {"block_cipher_mode": enums.BlockCipherMode.GCM, "cryptographic_algorithm": enums.CryptographicAlgorithm.AES, "tag_length": 16, "random_iv": True}
#: AES-CBC with PKCS#5 padding, which every version can say; the server makes the IV.
CBC = {"block_cipher_mode": enums.BlockCipherMode.CBC, "padding_method": enums.PaddingMethod.PKCS5, "cryptographic_algorithm": enums.CryptographicAlgorithm.AES, "random_iv": True}


def plain(value):
    """An attribute value as JSON: enumerations by name, names by their text, structures by their fields."""
    inner = getattr(value, "value", value)
    if hasattr(value, "name_value"):  # Name
        return value.name_value.value
    if isinstance(inner, enum.Enum):
        return inner.name
    if isinstance(inner, (int, str, bool)) or inner is None:
        return inner
    if isinstance(inner, (bytes, bytearray)):
        return {"bytes": len(inner)}
    return str(inner)


def enum_name(value):
    """PyKMIP gives some lists as enumerations, some as Enumeration primitives holding one."""
    return value.name if isinstance(value, enum.Enum) else value.value.name


def attributes_by_name(attributes):
    found = {}
    for attribute in attributes:
        found.setdefault(attribute.attribute_name.value, []).append(plain(attribute.attribute_value))
    return found


def state_of(client, uid):
    _, attributes = client.get_attributes(uid, ["State"])
    states = attributes_by_name(attributes).get("State", [])
    return states[0] if states else None


def discover(story, args):
    """Discover Versions and Query through KMIPProxy (ProxyKmipClient has neither)."""
    proxy = story.connection.proxy

    def discover_versions():
        result = proxy.discover_versions()
        return {"versions": ["%d.%d" % (v.major, v.minor) for v in result.protocol_versions]}

    def query():
        functions = [enums.QueryFunction.QUERY_OPERATIONS, enums.QueryFunction.QUERY_OBJECTS, enums.QueryFunction.QUERY_SERVER_INFORMATION]
        result = proxy.query(query_functions=functions)
        return {
            "operations": [enum_name(o) for o in result.operations or []],
            "objectTypes": [enum_name(o) for o in result.object_types or []],
            "vendor": plain(result.vendor_identification),
        }

    story.step("discover_versions", discover_versions)
    story.step("query", query)


def keys(story, args):
    """Symmetric keys' lives: create (Pre-Active), attributes, locate, activate, get, rekey; then another revoked and destroyed (which asks for approval)."""
    client = lambda: story.connection.client  # noqa: E731 (reopened after a broken exchange)
    name = args["name"]
    made = {}

    def create():
        made["uid"] = client().create(enums.CryptographicAlgorithm.AES, 256, name=name)
        return {"uid": made["uid"]}

    def get_attributes():
        uid, attributes = client().get_attributes(made["uid"], NAMED_ATTRIBUTES)
        return {"uid": uid, "attributes": attributes_by_name(attributes)}

    def get_attribute_list():
        return {"names": sorted(client().get_attribute_list(made["uid"]))}

    def locate():
        by_name = ATTRIBUTES.create_attribute(enums.AttributeType.NAME, name)
        return {"uids": client().locate(attributes=[by_name])}

    def get():
        key = client().get(made["uid"])
        return {
            "objectType": key.object_type.name,
            "algorithm": key.cryptographic_algorithm.name,
            "length": key.cryptographic_length,
            "bytes": len(key.value),
        }

    def rekey():
        made["replacement"] = client().rekey(uid=made["uid"])
        return {"uid": made["replacement"]}

    def create_retired():
        made["retired"] = client().create(enums.CryptographicAlgorithm.AES, 256, name=name + "-retired")
        client().activate(made["retired"])
        return {"uid": made["retired"]}

    def revoke_with_message():
        client().revoke(enums.RevocationReasonCode.CESSATION_OF_OPERATION, made["retired"], revocation_message="retired by the PyKMIP test")

    story.step("create", create)
    story.step("get_attributes", get_attributes, ["create"])
    story.step("get_attribute_list", get_attribute_list, ["create"])
    story.step("locate", locate, ["create"])
    story.step("activate", lambda: client().activate(made["uid"]), ["create"])
    story.step("state_after_activate", lambda: {"state": state_of(client(), made["uid"])}, ["activate"])
    story.step("get", get, ["activate"])
    story.step("rekey", rekey, ["activate"])
    story.step("states_after_rekey", lambda: {"replacement": state_of(client(), made["replacement"]), "replaced": state_of(client(), made["uid"])}, ["rekey"])
    # Revoke and Destroy retire a second key, Active, whatever ReKey did to the first.
    story.step("create_retired", create_retired)
    story.step("revoke", revoke_with_message, ["create_retired"])
    story.step("state_after_revoke", lambda: {"state": state_of(client(), made["retired"])}, ["revoke"])
    story.step("destroy", lambda: client().destroy(made["retired"]), ["revoke"])


def destroyed(story, args):
    """After an approved Destroy: Poll (through KMIPProxy: the client API has none), the object's State, and Get refused."""
    client = lambda: story.connection.client  # noqa: E731
    uid = args["uid"]

    def poll():
        request = payloads.PollRequestPayload(asynchronous_correlation_value=args["correlation"].encode("utf-8"))
        answer = story.connection.proxy.send_request_payload(enums.Operation.POLL, request)
        return {"payload": type(answer).__name__}

    story.step("poll", poll)
    story.step("state", lambda: {"state": state_of(client(), uid)})
    story.step("get", lambda: {"objectType": client().get(uid).object_type.name})


def register(story, args):
    """Register: a clear-text AES key (refused by design) and Secret Data, which is read back.

    PyKMIP's pie objects default to no usage, which Register sends as a Cryptographic
    Usage Mask of 0 (the appliance refuses a key no one could use): the objects name theirs.
    """
    client = lambda: story.connection.client  # noqa: E731
    name = args["name"]
    secret = os.urandom(24)
    made = {}

    def register_key():
        key = objects.SymmetricKey(enums.CryptographicAlgorithm.AES, 256, os.urandom(32), masks=[enums.CryptographicUsageMask.ENCRYPT, enums.CryptographicUsageMask.DECRYPT], name=name + "-imported")
        return {"uid": client().register(key)}

    def register_secret_without_usage():
        data = objects.SecretData(secret, enums.SecretDataType.PASSWORD, name=name + "-unusable")
        return {"uid": client().register(data)}

    def register_secret():
        data = objects.SecretData(secret, enums.SecretDataType.PASSWORD, masks=[enums.CryptographicUsageMask.EXPORT], name=name + "-secret")
        made["uid"] = client().register(data)
        client().activate(made["uid"])  # registered Pre-Active, as created
        return {"uid": made["uid"]}

    def get_secret():
        got = client().get(made["uid"])
        return {"objectType": got.object_type.name, "dataType": got.data_type.name, "bytes": len(got.value), "matches": bytes(got.value) == secret}

    story.step("register_key", register_key)
    story.step("register_secret_without_usage", register_secret_without_usage)
    story.step("register_secret", register_secret)
    story.step("get_secret", get_secret, ["register_secret"])


def crypto(story, args):
    """Encrypt and Decrypt under an AES key (CBC-PKCS5, then GCM), MAC under an HMAC key, each checked locally with the key Get returns."""
    client = lambda: story.connection.client  # noqa: E731
    name = args["name"]
    plaintext = b"PyKMIP interoperability: " + os.urandom(16)
    made = {}

    def create_aes():
        made["aes"] = client().create(enums.CryptographicAlgorithm.AES, 256, name=name + "-aes")
        client().activate(made["aes"])  # Create leaves a key Pre-Active
        return {"uid": made["aes"]}

    def encrypt():
        data, iv = client().encrypt(plaintext, uid=made["aes"], cryptographic_parameters=dict(GCM))
        # ProxyKmipClient.encrypt returns no Authenticated Encryption Tag: read it from the response PyKMIP decoded.
        tag = story.connection.recorder.response.batch_items[0].response_payload.auth_tag
        made.update(ciphertext=data, iv=iv, tag=tag)
        return {"bytes": len(data), "ivBytes": len(iv) if iv else 0, "tagBytes": len(tag) if tag else 0}

    def decrypt():
        # ProxyKmipClient.decrypt cannot send a tag: KMIPProxy with the Decrypt payload can.
        request = payloads.DecryptRequestPayload(
            unique_identifier=made["aes"],
            cryptographic_parameters=CryptographicParameters(block_cipher_mode=enums.BlockCipherMode.GCM, cryptographic_algorithm=enums.CryptographicAlgorithm.AES, tag_length=16),
            data=made["ciphertext"],
            iv_counter_nonce=made["iv"],
            auth_tag=made["tag"],
        )
        answer = story.connection.proxy.send_request_payload(enums.Operation.DECRYPT, request)
        return {"matches": bytes(answer.data) == plaintext}

    def decrypt_locally():
        key = client().get(made["aes"])
        opened = AESGCM(bytes(key.value)).decrypt(bytes(made["iv"]), bytes(made["ciphertext"]) + bytes(made["tag"] or b""), None)
        return {"matches": opened == plaintext}

    def create_hmac_with_client():
        made["hmac"] = client().create(enums.CryptographicAlgorithm.HMAC_SHA256, 256, name=name + "-hmac", cryptographic_usage_mask=[enums.CryptographicUsageMask.MAC_GENERATE])
        return {"uid": made["hmac"]}

    def create_hmac():
        # ProxyKmipClient.create always adds Encrypt and Decrypt to the usage, which no HMAC key has: KMIPProxy takes the template as given.
        template = cobjects.TemplateAttribute(attributes=[
            ATTRIBUTES.create_attribute(enums.AttributeType.CRYPTOGRAPHIC_ALGORITHM, enums.CryptographicAlgorithm.HMAC_SHA256),
            ATTRIBUTES.create_attribute(enums.AttributeType.CRYPTOGRAPHIC_LENGTH, 256),
            ATTRIBUTES.create_attribute(enums.AttributeType.CRYPTOGRAPHIC_USAGE_MASK, [enums.CryptographicUsageMask.MAC_GENERATE, enums.CryptographicUsageMask.MAC_VERIFY]),
            ATTRIBUTES.create_attribute(enums.AttributeType.NAME, name + "-hmac"),
        ])
        result = story.connection.proxy.create(enums.ObjectType.SYMMETRIC_KEY, template)
        if result.result_status.value != enums.ResultStatus.SUCCESS:
            raise pie_exceptions.KmipOperationFailure(result.result_status.value, result.result_reason.value, result.result_message.value)
        made["hmac"] = result.uuid
        client().activate(made["hmac"])
        return {"uid": made["hmac"]}

    def mac():
        uid, code = client().mac(plaintext, uid=made["hmac"], algorithm=enums.CryptographicAlgorithm.HMAC_SHA256)
        key = client().get(made["hmac"])
        expected = hmac.new(bytes(key.value), plaintext, hashlib.sha256).digest()
        return {"uid": uid, "bytes": len(code), "matchesLocal": hmac.compare_digest(bytes(code), expected)}

    def encrypt_cbc():
        data, iv = client().encrypt(plaintext, uid=made["aes"], cryptographic_parameters=dict(CBC))
        made.update(cbc=data, cbc_iv=iv)
        return {"bytes": len(data), "ivBytes": len(iv) if iv else 0}

    def decrypt_cbc():
        opened = client().decrypt(made["cbc"], uid=made["aes"], cryptographic_parameters=dict(CBC), iv_counter_nonce=made["cbc_iv"])
        return {"matches": bytes(opened) == plaintext}

    def decrypt_cbc_locally():
        key = client().get(made["aes"])
        decryptor = Cipher(algorithms.AES(bytes(key.value)), modes.CBC(bytes(made["cbc_iv"]))).decryptor()
        unpadder = padding.PKCS7(128).unpadder()
        opened = unpadder.update(decryptor.update(bytes(made["cbc"])) + decryptor.finalize()) + unpadder.finalize()
        return {"matches": opened == plaintext}

    story.step("create_aes", create_aes)
    story.step("encrypt_cbc", encrypt_cbc, ["create_aes"])
    story.step("decrypt_cbc", decrypt_cbc, ["encrypt_cbc"])
    story.step("decrypt_cbc_locally", decrypt_cbc_locally, ["encrypt_cbc"])
    story.step("encrypt", encrypt, ["create_aes"])
    story.step("decrypt", decrypt, ["encrypt"])
    story.step("decrypt_locally", decrypt_locally, ["encrypt"])
    story.step("create_hmac_with_client", create_hmac_with_client)
    story.step("create_hmac", create_hmac)
    story.step("mac", mac, ["create_hmac"])


def create(story, args):
    """One Create, for refusals (a client without grants)."""
    story.step("create", lambda: {"uid": story.connection.client.create(enums.CryptographicAlgorithm.AES, 256, name=args["name"])})


SCENARIOS = {"discover": discover, "keys": keys, "destroyed": destroyed, "register": register, "crypto": crypto, "create": create}
