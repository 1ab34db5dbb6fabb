-- Neovim as a real LSP client of `memlens serve`: run headless by tests/lsp/test_neovim.py as
--   nvim --headless --clean -u NONE -c "luafile check.lua" FILE
-- Environment: MEMLENS_PYTHON (the interpreter with memlens), MEMLENS_FUNCTION and
-- MEMLENS_CALL (what to profile). Prints "ok <step>" lines and exits 0, or "FAIL: ..." and 1.
local python = os.getenv("MEMLENS_PYTHON") or "python3"
local target = os.getenv("MEMLENS_FUNCTION")
local call = os.getenv("MEMLENS_CALL")
local buf = vim.api.nvim_get_current_buf()
local path = vim.api.nvim_buf_get_name(buf)
local uri = vim.uri_from_fname(path)

local function out(msg)
  io.stdout:write(msg .. "\n")
  io.stdout:flush()
end

local function fail(msg)
  out("FAIL: " .. msg)
  vim.cmd("cquit 1")
end

local function request(method, params, timeout)
  local replies, err = vim.lsp.buf_request_sync(buf, method, params, timeout or 20000)
  if not replies then
    fail(method .. ": no reply (" .. tostring(err) .. ")")
  end
  for _, reply in pairs(replies) do
    if reply.err then
      fail(method .. ": " .. vim.inspect(reply.err))
    end
    return reply.result
  end
end

vim.bo[buf].filetype = "python"
local client_id = vim.lsp.start({
  name = "memlens",
  cmd = { python, "-m", "memlens", "serve" },
  root_dir = vim.fs.dirname(path),
  init_options = { settings = { debounceMs = 0, profile = { hotLineThresholdMb = 10 } } },
})
if not client_id then
  fail("vim.lsp.start failed")
end
if not vim.wait(30000, function()
  local client = vim.lsp.get_client_by_id(client_id)
  return client ~= nil and client.initialized
end, 50) then
  fail("the server did not initialize")
end
out("ok initialized")

-- 1. diagnostics arrive
if not vim.wait(30000, function() return #vim.diagnostic.get(buf) > 0 end, 50) then
  fail("no diagnostics arrived")
end
local diags = vim.diagnostic.get(buf)
local codes = {}
for _, d in ipairs(diags) do
  table.insert(codes, tostring(d.code))
end
out("ok diagnostics " .. #diags .. " " .. table.concat(codes, ","))

-- 2. the lenses list "Profile memory"
local lenses = request("textDocument/codeLens", { textDocument = { uri = uri } })
local profile_args
local titles = 0
for _, lens in ipairs(lenses or {}) do
  if lens.command and lens.command.title == "Profile memory" then
    titles = titles + 1
    if lens.command.arguments[1].qualname == target then
      profile_args = lens.command.arguments[1]
    end
  end
end
if titles == 0 then
  fail("no 'Profile memory' lens")
end
if not profile_args then
  fail("no lens for " .. tostring(target))
end
out("ok lenses " .. titles .. " x Profile memory")

-- 3. memlens.profileFunction runs, and inlay hints appear
vim.lsp.inlay_hint.enable(true, { bufnr = buf })
profile_args.call = call
local result = request("workspace/executeCommand",
  { command = "memlens.profileFunction", arguments = { profile_args } }, 120000)
if type(result) ~= "table" or result.status ~= "ok" then
  fail("profile: " .. vim.inspect(result))
end
out(string.format("ok profiled %s: peak %.1f MiB in %.2f s", target, result.peak_mib,
  result.duration_s))
local hints = {}
if not vim.wait(20000, function()
  hints = vim.lsp.inlay_hint.get({ bufnr = buf })
  return #hints > 0
end, 50) then
  fail("no inlay hints after the profile run")
end
local hint = hints[1].inlay_hint
local label = type(hint.label) == "string" and hint.label or hint.label[1].value
out("ok inlay hints " .. #hints .. ", e.g. line " .. (hint.position.line + 1) .. ": " .. label)
lenses = request("textDocument/codeLens", { textDocument = { uri = uri } })
local updated
for _, lens in ipairs(lenses or {}) do
  if lens.command and lens.command.title:match("^peak ") then
    updated = lens.command.title
  end
end
if not updated then
  fail("the lens did not show the result")
end
out("ok lens " .. updated)

-- 4. a quick fix applies, and the buffer still parses
local fix_diag
for _, d in ipairs(vim.diagnostic.get(buf)) do
  local lsp = d.user_data and d.user_data.lsp
  if lsp and lsp.data and lsp.data.fix then
    fix_diag = lsp
    break
  end
end
if not fix_diag then
  fail("no diagnostic with a fix")
end
local actions = request("textDocument/codeAction", {
  textDocument = { uri = uri },
  range = fix_diag.range,
  context = { diagnostics = { fix_diag }, only = { "quickfix" } },
})
local chosen
for _, action in ipairs(actions or {}) do
  if action.title == fix_diag.data.fix.message then
    chosen = action
  end
end
if not chosen then
  fail("no quick fix titled " .. fix_diag.data.fix.message)
end
local before = table.concat(vim.api.nvim_buf_get_lines(buf, 0, -1, false), "\n")
vim.lsp.util.apply_workspace_edit(chosen.edit, "utf-16")
local after = table.concat(vim.api.nvim_buf_get_lines(buf, 0, -1, false), "\n")
if after == before then
  fail("the quick fix changed nothing")
end
vim.fn.system({ python, "-c", "import ast, sys; ast.parse(sys.stdin.read())" }, after .. "\n")
if vim.v.shell_error ~= 0 then
  fail("the buffer does not parse after the quick fix")
end
out("ok quick fix '" .. chosen.title .. "' applied; the buffer parses")

vim.lsp.stop_client(client_id)
vim.wait(3000, function() return vim.lsp.get_client_by_id(client_id) == nil end, 50)
out("ok all")
vim.cmd("qall!")
