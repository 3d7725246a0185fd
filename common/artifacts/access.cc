#include "common/artifacts/access.h"

#include <asio/post.hpp>

namespace hollerith {

void LocalArtifactAccess::Publish(const std::filesystem::path& file,
                                  std::function<void(Result<std::string>)> done) {
  asio::post(io_, [this, file, done = std::move(done)] { done(store_.Put(file)); });
}

void LocalArtifactAccess::Fetch(const std::string& digest, const std::filesystem::path& dest,
                                std::function<void(Status)> done) {
  asio::post(io_, [this, digest, dest, done = std::move(done)] {
    done(store_.Materialize(digest, dest));
  });
}

}  // namespace hollerith
