// How a node publishes a card's declared outputs and fetches the inputs of a card. The local wiring
// reads and writes one ArtifactStore directly; a worker also uploads to / downloads from the
// coordinator's store. Callbacks run on the io_context, never inside the call.
#pragma once

#include <asio/io_context.hpp>
#include <filesystem>
#include <functional>
#include <string>

#include "common/artifacts/store.h"
#include "common/base/status.h"

namespace hollerith {

class ArtifactAccess {
 public:
  virtual ~ArtifactAccess() = default;
  virtual void Publish(const std::filesystem::path& file,
                       std::function<void(Result<std::string>)> done) = 0;
  virtual void Fetch(const std::string& digest, const std::filesystem::path& dest,
                     std::function<void(Status)> done) = 0;
};

// Reads and writes one store on this machine.
class LocalArtifactAccess : public ArtifactAccess {
 public:
  LocalArtifactAccess(asio::io_context& io, ArtifactStore& store) : io_(io), store_(store) {}
  void Publish(const std::filesystem::path& file,
               std::function<void(Result<std::string>)> done) override;
  void Fetch(const std::string& digest, const std::filesystem::path& dest,
             std::function<void(Status)> done) override;

 private:
  asio::io_context& io_;
  ArtifactStore& store_;
};

}  // namespace hollerith
