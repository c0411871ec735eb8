// The MCCS vendor's license-signing public key (Ed25519, SPKI PEM). Licenses signed with its private
// half are accepted by every build. The private half is not part of this repository; an open build
// also trusts operator-generated keys listed in <configDir>/license-keys.pem (see docs/licenses.md).
export const VENDOR_PUBLIC_KEY_PEM = `-----BEGIN PUBLIC KEY-----
MCowBQYDK2VwAyEAga0iOsA3l+aI1q3oImFE7/coNMNRvhLG9TTyRog/XOE=
-----END PUBLIC KEY-----
`
