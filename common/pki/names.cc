#include <arpa/inet.h>

#include <cctype>

#include "common/pki/pki.h"

namespace hollerith::pki {

const char* RoleName(Role role) {
  switch (role) {
    case Role::kCoordinator:
      return "coordinator";
    case Role::kWorker:
      return "worker";
    case Role::kClient:
      return "client";
  }
  return "unknown";
}

std::optional<Role> ParseRole(std::string_view name) {
  for (Role r : {Role::kCoordinator, Role::kWorker, Role::kClient}) {
    if (name == RoleName(r)) return r;
  }
  return std::nullopt;
}

std::optional<Role> RoleFromUri(std::string_view uri) {
  if (uri.substr(0, kRoleUriPrefix.size()) != kRoleUriPrefix) return std::nullopt;
  return ParseRole(uri.substr(kRoleUriPrefix.size()));
}

std::string RoleUri(Role role) { return std::string(kRoleUriPrefix) + RoleName(role); }

Status ValidateHost(const std::string& host) {
  unsigned char addr[16];
  if (inet_pton(AF_INET, host.c_str(), addr) == 1 || inet_pton(AF_INET6, host.c_str(), addr) == 1) {
    return Status::Ok();
  }
  std::string_view rest = host;
  if (rest.substr(0, 2) == "*.") rest.remove_prefix(2);
  bool ok = !rest.empty() && rest.size() <= 253 && rest.front() != '.' && rest.front() != '-' &&
            rest.back() != '.';
  for (char c : rest) {
    ok = ok && (std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '.');
  }
  if (!ok) {
    return Status::InvalidArgument("--host '" + host + "' is neither a DNS name nor an IP address");
  }
  return Status::Ok();
}

Status ValidateName(const std::string& name) {
  bool ok = !name.empty() && name.size() <= 64 && name.front() != '.' && name.front() != '-';
  for (char c : name) {
    ok = ok && (std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '.' || c == '_');
  }
  if (!ok) {
    return Status::InvalidArgument("name '" + name +
                                   "': use letters, digits, '.', '_' and '-' (at most 64), not "
                                   "starting with '.' or '-'");
  }
  return Status::Ok();
}

}  // namespace hollerith::pki
