# cmake -DSOURCE_DIR=coordinator/web -DNPM_DIR=dir -DOUT=dagre.min.js -P bundle_npm.cmake
# Installs the web view's npm packages (package.json, pinned by package-lock.json) into NPM_DIR
# with `npm ci --prefer-offline` (from npm's cache, which scripts/install-deps.sh fills: no network
# once it ran) and copies dagre's self-contained script to OUT, an asset like those of assets/.
find_program(NPM npm)
if(NOT NPM)
  message(FATAL_ERROR "npm is missing: the web view bundles @dagrejs/dagre from npm at build "
                      "time (scripts/install-deps.sh installs it)")
endif()
file(MAKE_DIRECTORY ${NPM_DIR})
file(COPY_FILE ${SOURCE_DIR}/package.json ${NPM_DIR}/package.json ONLY_IF_DIFFERENT)
file(COPY_FILE ${SOURCE_DIR}/package-lock.json ${NPM_DIR}/package-lock.json ONLY_IF_DIFFERENT)
execute_process(COMMAND ${NPM} ci --prefer-offline --no-audit --no-fund --loglevel=error
                WORKING_DIRECTORY ${NPM_DIR} RESULT_VARIABLE failed OUTPUT_VARIABLE output
                ERROR_VARIABLE output)
if(failed)
  message(FATAL_ERROR "${output}npm ci failed in ${NPM_DIR}: without a network, npm's cache must "
                      "hold coordinator/web/package-lock.json's packages (scripts/install-deps.sh "
                      "fills it)")
endif()
get_filename_component(out_dir ${OUT} DIRECTORY)
file(MAKE_DIRECTORY ${out_dir})
file(COPY_FILE ${NPM_DIR}/node_modules/@dagrejs/dagre/dist/dagre.min.js ${OUT})
