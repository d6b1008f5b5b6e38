// Validates Kubernetes manifests offline against the Kubernetes OpenAPI schemas, through the models of the
// npm package kubernetes-models (and @kubernetes-models/prometheus-operator for ServiceMonitor).
// Usage: kubectl kustomize DIR | node validate.mjs   (multi-document YAML on standard input)
// Prints one line per document ("ok Kind/name" or the schema errors) and exits 1 when any is invalid.
// KServe has no model package: an InferenceService's predictor containers and volumes are checked as
// core/v1 Containers and Volumes, and its predictor's own fields by name.
import { readFileSync } from "node:fs";
import { parseAllDocuments } from "yaml";

const models = {
  "v1/Service": () => import("kubernetes-models/v1/Service"),
  "v1/PersistentVolumeClaim": () => import("kubernetes-models/v1/PersistentVolumeClaim"),
  "v1/ConfigMap": () => import("kubernetes-models/v1/ConfigMap"),
  "apps/v1/Deployment": () => import("kubernetes-models/apps/v1/Deployment"),
  "policy/v1/PodDisruptionBudget": () => import("kubernetes-models/policy/v1/PodDisruptionBudget"),
  "autoscaling/v2/HorizontalPodAutoscaler": () => import("kubernetes-models/autoscaling/v2/HorizontalPodAutoscaler"),
  "monitoring.coreos.com/v1/ServiceMonitor": () =>
    import("@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/ServiceMonitor"),
};

const PREDICTOR_FIELDS = new Set(["minReplicas", "maxReplicas", "scaleMetric", "scaleTarget", "containers",
  "volumes", "serviceAccountName", "nodeSelector", "tolerations", "affinity", "timeout", "containerConcurrency",
  "canaryTrafficPercent", "labels", "annotations", "imagePullSecrets", "securityContext"]);

async function validateInferenceService(doc) {
  const errors = [];
  const { Container } = await import("kubernetes-models/v1/Container");
  const { Volume } = await import("kubernetes-models/v1/Volume");
  const predictor = doc.spec?.predictor;
  if (!predictor || !Array.isArray(predictor.containers) || predictor.containers.length === 0) {
    return ["spec.predictor.containers: a custom predictor needs at least one container"];
  }
  for (const key of Object.keys(predictor)) {
    if (!PREDICTOR_FIELDS.has(key)) errors.push(`spec.predictor.${key}: not a field of a KServe predictor`);
  }
  for (const [i, c] of predictor.containers.entries()) {
    try { new Container(c).validate(); } catch (e) { errors.push(`spec.predictor.containers[${i}]: ${e.message}`); }
  }
  for (const [i, v] of (predictor.volumes ?? []).entries()) {
    try { new Volume(v).validate(); } catch (e) { errors.push(`spec.predictor.volumes[${i}]: ${e.message}`); }
  }
  return errors;
}

const text = readFileSync(0, "utf8");
let failed = 0;
let count = 0;
for (const parsed of parseAllDocuments(text)) {
  if (parsed.errors.length > 0) {
    console.log(`invalid YAML: ${parsed.errors.map((e) => e.message).join("; ")}`);
    failed++;
    continue;
  }
  const doc = parsed.toJS();
  if (doc == null) continue;
  count++;
  const id = `${doc.kind}/${doc.metadata?.name}`;
  let errors = [];
  if (doc.apiVersion === "serving.kserve.io/v1beta1" && doc.kind === "InferenceService") {
    errors = await validateInferenceService(doc);
  } else {
    const load = models[`${doc.apiVersion}/${doc.kind}`];
    if (!load) {
      errors = [`no schema known for ${doc.apiVersion} ${doc.kind}`];
    } else {
      const module = await load();
      try {
        new module[doc.kind](doc).validate();
      } catch (e) {
        errors = [e.message];
      }
    }
  }
  if (errors.length > 0) {
    failed++;
    console.log(`INVALID ${id}: ${errors.join("; ")}`);
  } else {
    console.log(`ok ${id}`);
  }
}
if (count === 0) {
  console.log("no manifest on standard input");
  process.exit(1);
}
process.exit(failed > 0 ? 1 : 0);
