/** The most common passwords of public breach lists (lower case), refused outright. */
export const COMMON_PASSWORDS: ReadonlySet<string> = new Set(
  `123456 password 12345678 qwerty 123456789 12345 1234 111111 1234567 dragon 123123 baseball abc123 football
monkey letmein 696969 shadow master 666666 qwertyuiop 123321 mustang 1234567890 michael 654321 superman
1qaz2wsx 7777777 121212 000000 qazwsx 123qwe killer trustno1 jordan jennifer zxcvbnm asdfgh hunter buster
soccer harley batman andrew tigger sunshine iloveyou 2000 charlie robert thomas hockey ranger daniel starwars
klaster 112233 george computer michelle jessica pepper 1111 zxcvbn 555555 11111111 131313 freedom 777777 pass
maggie 159753 aaaaaa ginger princess joshua cheese amanda summer love ashley nicole chelsea biteme matthew
access yankees 987654321 dallas austin thunder taylor matrix minecraft welcome welcome1 password1 password123
passw0rd p@ssw0rd p@ssword admin administrator admin123 changeme letmein1 qwerty123 iloveyou1 secret
sunshine1 football1 monkey1 princess1 abcd1234 qwertyuiop1 1q2w3e4r 1q2w3e4r5t zaq12wsx welcome123
passwordpassword correcthorse tenantgate microsoft office365 microsoft365 azure`
    .split(/\s+/)
    .filter(Boolean),
);
