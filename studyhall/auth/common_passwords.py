"""Passwords and words common among Chinese users, most common first: what zxcvbn's own
lists (English, from Western leaks) lack. Written for StudyHall from the patterns that
public analyses of leaked Chinese password sets keep naming: number strings with
meanings (520 我爱你, 1314 一生一世, 7758521 亲亲我吧我爱你), pinyin phrases and names,
keyboard walks, a letter or "qq" before digits, and words of a school or a party branch.

The list serves twice: as a ranked dictionary inside zxcvbn, so that "woaini520" or
"laoshi2024" count as the guessable words they are, and as an exact list for the quick
check that bulk imports run on every row.
"""

WORDS = """
123456789 12345678 11111111 00000000 123123123 1234567890 88888888 111111111 147258369
987654321 aaaaaaaa 1111111111 66666666 a123456789 11223344 1qaz2wsx xiazhili 789456123
password 87654321 qqqqqqqq 000000000 qwertyuiop qq123456 iloveyou 31415926 12344321
0000000000 asdfghjkl 1q2w3e4r 123456abc 0123456789 123654789 12121212 qazwsxedc abcd1234
12341234 110110110 asdasdasd 123456aa 22222222 1234qwer 123321123 5201314 woaini1314
a12345678 woaini 5201314520 1314520 7758521 7758258 147852369 woaini520 woaini521
5211314 aini1314 520520520 1314521 584131420 woaiwojia woaini123 wodemima mima mimamima
mima123 mima1234 nihao nihao123 nihaoma woshishui dearbook zhongguo zhongguo123
zhonghua aa123456 abc123456 abc12345 12345678a 123456a 123456789a q123456 w123456
z123456 qq123456789 qq5201314 qwer1234 1q2w3e4r5t 123qwe 123qweasd qweasdzxc qwe123
asd123 zxc123 zxcvbnm 1qazxsw2 2wsx3edc 1qaz2wsx3edc qwerasdf asdfasdf 1234abcd
abcdefg abcdefgh a1b2c3d4 aa123123 123abc abc123abc 147258 159357 159753 963852741
741852963 321654987 135792468 246813579 13579246 12312312 11112222 112233445566
123456654321 12345654321 168168168 518518 668888 666888 88886666 16888888 18888888
99999999 55555555 77777777 33333333 44444444 12345600 19491001 20080808 20082008
woaiwoma woaimama woaibaba woainima aiwoba aini woaini1 woaini12 woainia ilovechina
china chinese beijing beijing2008 shanghai guangzhou shenzhen tianjin chongqing hangzhou
nanjing wuhan chengdu xian jinan qingdao dalian xiamen suzhou changsha zhengzhou
shenyang harbin kunming hefei fuzhou nanchang taiyuan shijiazhuang
laoshi laoshi123 jiaoshi jiaoshi123 xuesheng xuexiao xiaoxue zhongxue gaozhong chuzhong
daxue youeryuan xuexi xuexi123 xuexiqiangguo dangyuan dangyuan123 dangjian zhibu
dangzhibu dangzongzhi dangwei shuji zhibushuji zhuren banzhuren xiaozhang fuxiaozhang
jiaoyu jiaoyuju jiaowu jiaoyan gongzuo bangong bangongshi danwei renshi caiwu
yuwen shuxue yingyu wuli huaxue shengwu lishi dili zhengzhi tiyu yinyue meishu kexue
xinxi jisuanji diannao
wodejia jiating baobao baobei laogong laopo qinqin qinai aiqing xingfu kuaile pingan
jiankang shunli fuqi mama baba nainai yeye waipo waigong gege jiejie meimei didi
erzi nver xiaobao tiantian xiaoxiao lele yangyang huanhuan xinxin fangfang jingjing lili
tingting yueyue wenwen dongdong leilei pengpeng haohao chenchen mengmeng xiaoming
xiaohong xiaoli xiaowang xiaozhang xiaoyu xiaoyan xiaomei xiaolong xiaohu xiaozhu zhuzhu
tianshi wangzi gongzhu longlong huahua meinv shuaige haoren hongxing hongqi weilai
mingtian jintian zuotian xiaohai daren pengyou tongxue tongshi
zhangwei wangwei wangfang liwei lina zhangmin lijing wangjing liuwei wangxiuying zhangli
lixiuying wangli zhangjing lijun liqiang wangqiang zhangyong wangjun liyang zhangyan
wangyan liuyang chenjing liuyan zhangtao wanglei lilei hanmeimei zhangsan lisi wangwu
zhaoliu zhangjie wangjie lijie liuyun chenwei yangyang zhangxin wangxin liuxin
wang li zhang liu chen yang huang zhao wu zhou xu sun ma zhu hu guo he gao lin luo
zheng liang xie song tang han feng deng cao peng zeng xiao tian dong pan yuan cai jiang
yu du ye cheng wei su lu ding ren shen yao fan fang jin shi qian dai xia zhong tan
admin admin123 admin888 admin123456 administrator root root123 test test123 test1234
test123456 user user123 guest guest123 system manager password1 password123 pass1234
passw0rd p@ssw0rd welcome welcome1 hello123 hello1234 letmein changeme default
studyhall studyhall123 studyhall-demo demo1234 xuexipingtai pingtai
qwerty qwerty123 qwe123qwe asdf1234 zxcv1234 1qaz1qaz 2wsx2wsx qazqaz qaz123 wsx123
1234asdf q1w2e3r4 q1w2e3r4t5 a1s2d3f4 z1x2c3v4 zaq12wsx xsw21qaz !qaz2wsx 1qaz@wsx
qq111111 qq666666 qq888888 qq000000 qq520520 wo123456 ni123456 ai123456 li123456
wang123456 zhang123456 liu123456 chen123456 abcabc123 aaa123456 aaaaaa111 abc888888
a888888 a666666 a111111 a000000 a5201314 a1314520 woaini5201314 1314woaini 520woaini
yiersansi yiyiyi lingling bababa liuliuliu jiujiujiu
"""

COMMON = tuple(dict.fromkeys(WORDS.split()))
