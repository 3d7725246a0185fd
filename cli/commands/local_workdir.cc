#include "cli/commands/local_workdir.h"

#include <stdlib.h>
#include <sys/stat.h>

#include "common/spec/parser.h"

namespace hollerith::cli {

Result<LocalJob> LoadLocalJob(const std::string& file, const std::string& run_as,
                              const std::string& default_limits) {
  auto spec = LoadJobSpecFile(file);
  if (!spec.ok()) return spec.status();
  auto sandbox = ResolveSandbox(run_as, default_limits);
  if (!sandbox.ok()) return sandbox.status();
  return LocalJob{std::make_shared<const JobSpec>(std::move(*spec)), std::move(*sandbox)};
}

std::filesystem::path NewTempWorkdir(const std::string& job) {
  std::string pattern =
      (std::filesystem::temp_directory_path() / ("hollerith-" + job + "-XXXXXX")).string();
  if (mkdtemp(pattern.data()) == nullptr)
    return std::filesystem::temp_directory_path() / "hollerith";
  return pattern;
}

Status PrepareWorkdir(const std::filesystem::path& workdir, const CardSandbox& sandbox) {
  std::error_code ec;
  std::filesystem::create_directories(workdir, ec);
  if (ec) return Status::Error("cannot create workdir " + workdir.string() + ": " + ec.message());
  if (sandbox.user.switches) {
    // Cards run as another user: the artifact store is this process's alone, and the workdir
    // (mkdtemp makes it 0700) must let the card user reach its workspace.
    std::filesystem::create_directories(workdir / ".artifacts", ec);
    ::chmod((workdir / ".artifacts").c_str(), 0700);
    ::chmod(workdir.c_str(), 0711);
  }
  return Status::Ok();
}

}  // namespace hollerith::cli
