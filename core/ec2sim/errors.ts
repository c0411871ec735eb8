// An error as EC2 answers it: a code clients switch on (the SDK's exception name), a message and the HTTP status.
export class Ec2Error extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly status = 400,
  ) {
    super(message)
    this.name = 'Ec2Error'
  }
}

export const notFound = (code: string, what: string, id: string): Ec2Error => new Ec2Error(code, `The ${what} '${id}' does not exist`)

export const invalidValue = (param: string, value: string, why: string): Ec2Error =>
  new Ec2Error('InvalidParameterValue', `Value (${value}) for parameter ${param} is invalid. ${why}`)

export const missing = (param: string): Ec2Error => new Ec2Error('MissingParameter', `The request must contain the parameter ${param}`)
