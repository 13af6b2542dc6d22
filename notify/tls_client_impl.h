// TLS for the notification sender's https:// receivers: the client context (what to
// trust), the per-connection peer checks (SNI, expected host name or IP address), and a
// readable reason when a handshake fails. OpenSSL does the checking; this file only
// configures it, so a rejected certificate comes back with OpenSSL's own reason
// ("unable to get local issuer certificate", "hostname mismatch").
//
// Thread safety: a context is read-only once made and may be shared by connections on
// one thread; the functions have no shared state.
#pragma once

#include <memory>
#include <optional>
#include <string>

#include <boost/asio/ssl/context.hpp>  // also OpenSSL's SSL
#include <boost/system/error_code.hpp>

#include "offmon/common/result.h"

namespace offmon::notify {

struct TlsClientOptions {
  std::string ca_file;       // PEM bundle to trust instead of the system store; "" = the system store
  bool skip_verify = false;  // accept any certificate (no chain or host name check)
};

// A TLS 1.2+ client context. Peers are verified unless skip_verify, against ca_file or
// else the system trust store. InvalidArgument naming ca_file when it cannot be loaded.
Result<std::unique_ptr<boost::asio::ssl::context>> NewTlsClientContext(const TlsClientOptions& options);

// Prepares one connection to `host` (a name, or an IP address without brackets) before
// its handshake: SNI for names (RFC 6066 forbids it for addresses) and the name or
// address the certificate must be for. Returns false (with OpenSSL's reason in *why) when
// OpenSSL refuses them.
bool PrepareTlsConnection(SSL* ssl, const std::string& host, std::string* why);

// Why verification rejected the peer's certificate, e.g. "certificate verify failed:
// unable to get local issuer certificate"; nullopt when the handshake failed for another
// reason (or verification was off).
std::optional<std::string> CertificateRejection(SSL* ssl);

}  // namespace offmon::notify
