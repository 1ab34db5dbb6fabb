# VS Code extension: build, unit tests, VSIX, and the real-editor end-to-end test.
# Included by the root Makefile (`make test` runs test-client).
NODE_STAMP := node_modules/.memlens-npm-ci
VSIX       := memlens-$(shell node -p "require('./package.json').version" 2>/dev/null || echo 0.1.0).vsix
CLIENT_SRC := $(wildcard client/src/*.ts) client/scripts/build.mjs client/tsconfig.json package.json

.PHONY: test-client client-deps client-build client-unit vsix e2e-deps e2e

# npm ci from the lockfile (again whenever package-lock.json changes).
$(NODE_STAMP): package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

client-deps: $(NODE_STAMP)

client-build: $(NODE_STAMP)
	npm run -s typecheck
	npm run -s build

client-unit: $(NODE_STAMP)
	npm run -s typecheck
	npm run -s test:unit

# The VSIX bundles the client and the memlens wheel (built with the venv's pip).
vsix: $(NODE_STAMP) venv
	rm -f $(VSIX)
	npm run -s package

# Debian chromium + code-server 4.100.3 in .tools/code-server (skipped when present).
e2e-deps:
	bash .ci/install-e2e-deps.sh

# code-server in headless Chromium with the built VSIX, the server from .venv.
e2e: vsix e2e-deps
	node tests/e2e/run.mjs --vsix $(VSIX)

test-client: client-unit e2e
