output "namespace" {
  description = "Namespace the operator runs in."
  value       = helm_release.mlta.namespace
}

output "release_name" {
  description = "Helm release name of the mlta chart."
  value       = helm_release.mlta.name
}

output "release_status" {
  description = "Status of the mlta Helm release (deployed, failed, ...)."
  value       = helm_release.mlta.status
}

output "operator_deployment" {
  description = "Name of the operator Deployment (kubectl -n <namespace> logs deploy/<name>)."
  value       = local.operator_name
}

output "crds" {
  description = "CustomResourceDefinitions the chart installs."
  value       = ["datapipelines.mlta.io", "trainingjobs.mlta.io", "modeldeployments.mlta.io"]
}

output "kuberay_release_status" {
  description = "Status of the KubeRay operator release, or null when not installed by this module."
  value       = var.install_kuberay ? helm_release.kuberay_operator[0].status : null
}
