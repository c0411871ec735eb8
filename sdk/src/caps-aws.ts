// The `aws.ec2` capability (EC2 API calls): filled in by the AWS resource types' work.
export interface AwsEc2Capability {
  [method: string]: (...args: never[]) => Promise<unknown>
}
export interface AwsCapabilities {
  ec2: AwsEc2Capability
}
