output "namespace" {
  description = "Namespace the operator runs in."
  value       = module.mlta.namespace
}

output "operator_deployment" {
  description = "Operator Deployment name."
  value       = module.mlta.operator_deployment
}

output "next_steps" {
  description = "What to run next."
  value       = "kubectl apply -f ../../../examples/ && kubectl get mlta -A -w"
}
