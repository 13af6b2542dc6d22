#include "tls_client_impl.h"

#include <openssl/ssl.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>

#include <boost/asio/ip/address.hpp>
#include <fmt/format.h>

namespace offmon::notify {

namespace ssl = boost::asio::ssl;

Result<std::unique_ptr<ssl::context>> NewTlsClientContext(const TlsClientOptions& options) {
  auto context = std::make_unique<ssl::context>(ssl::context::tls_client);
  // TLS 1.0 and 1.1 are deprecated (RFC 8996); every receiver we target speaks 1.2+.
  SSL_CTX_set_min_proto_version(context->native_handle(), TLS1_2_VERSION);
  if (options.skip_verify) {
    context->set_verify_mode(ssl::verify_none);
    return context;
  }
  context->set_verify_mode(ssl::verify_peer);
  boost::system::error_code ec;
  if (options.ca_file.empty()) {
    context->set_default_verify_paths(ec);
    if (ec) return Status::IOError(fmt::format("cannot load the system trust store: {}", ec.message()));
  } else {
    context->load_verify_file(options.ca_file, ec);
    if (ec) return Status::InvalidArgument(fmt::format("ca_file {}: cannot load: {}", options.ca_file, ec.message()));
  }
  return context;
}

bool PrepareTlsConnection(SSL* ssl, const std::string& host, std::string* why) {
  boost::system::error_code not_an_address;
  boost::asio::ip::make_address(host, not_an_address);
  if (!not_an_address) {
    // The certificate must list this IP address (subjectAltName IP:...).
    if (X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), host.c_str()) != 1) {
      *why = "cannot set the expected IP address";
      return false;
    }
    return true;
  }
  if (SSL_set_tlsext_host_name(ssl, host.c_str()) != 1) {
    *why = "cannot set the TLS server name (SNI)";
    return false;
  }
  // Checked by OpenSSL during the handshake, so a mismatch is reported like any other
  // verification failure (X509_V_ERR_HOSTNAME_MISMATCH).
  if (SSL_set1_host(ssl, host.c_str()) != 1) {
    *why = "cannot set the expected host name";
    return false;
  }
  SSL_set_hostflags(ssl, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);  // "*.example" yes, "w*.example" no
  return true;
}

std::optional<std::string> CertificateRejection(SSL* ssl) {
  if (SSL_get_verify_mode(ssl) == SSL_VERIFY_NONE) return std::nullopt;
  const long result = SSL_get_verify_result(ssl);
  if (result == X509_V_OK) return std::nullopt;
  return fmt::format("certificate verify failed: {}", X509_verify_cert_error_string(result));
}

}  // namespace offmon::notify
